import type { CompatServiceDefinition, ServiceDefinition, TsProtoServiceDefinition } from 'nice-grpc';
import { ValidationError } from './errors';

const malformedRequest = Symbol('malformedRequest');

interface MalformedRequest {
  [malformedRequest]: { typeName: string; error: unknown };
}

/**
 * grpc-js answers a request body that is not valid protobuf with INTERNAL ("Error deserializing
 * request"), which tells the caller nothing and looks like our bug. This turns a ts-proto
 * definition into a generic one whose decoder never throws: a malformed body becomes a marker
 * that `assertWellFormed` turns into INVALID_ARGUMENT naming the message type.
 */
export function withTolerantDecoding(definition: CompatServiceDefinition): CompatServiceDefinition {
  if (!isTsProto(definition)) return definition;
  const generic: ServiceDefinition = {};
  for (const [key, method] of Object.entries(definition.methods)) {
    const typeName = `${definition.fullName.split('.').slice(0, -1).join('.')}.${method.name}Request`;
    generic[key] = {
      path: `/${definition.fullName}/${method.name}`,
      requestStream: method.requestStream,
      responseStream: method.responseStream,
      requestSerialize: (value: unknown) => method.requestType.encode(value).finish(),
      requestDeserialize: (bytes: Uint8Array): unknown => {
        try {
          return method.requestType.decode(bytes);
        } catch (error) {
          return { [malformedRequest]: { typeName, error } } satisfies MalformedRequest;
        }
      },
      responseSerialize: (value: unknown) => method.responseType.encode(value).finish(),
      responseDeserialize: (bytes: Uint8Array) => method.responseType.decode(bytes),
      options: method.options,
    };
  }
  return generic;
}

/** Throws INVALID_ARGUMENT for a request body that `withTolerantDecoding` could not decode. */
export function assertWellFormed(request: unknown): void {
  if (typeof request === 'object' && request !== null && malformedRequest in request) {
    const { typeName, error } = (request as MalformedRequest)[malformedRequest];
    throw new ValidationError('request', `is not a valid ${typeName} protobuf message`, { cause: error });
  }
}

function isTsProto(definition: CompatServiceDefinition): definition is TsProtoServiceDefinition {
  return typeof (definition as { fullName?: unknown }).fullName === 'string' && 'methods' in definition;
}
