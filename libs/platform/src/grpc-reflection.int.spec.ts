import { Writable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { createChannel, createClient, type Channel } from 'nice-grpc';
import { ServerReflectionService } from 'nice-grpc-server-reflection';
import {
  ServerReflectionRequest,
  type ServerReflectionResponse,
} from 'nice-grpc-server-reflection/lib/proto/grpc/reflection/v1/reflection_pb';
import { Status } from 'nice-grpc-common';
import type { GetAccessTokenRequest } from '@mailroute/contracts';
import { AccessTokenServiceDefinition, descriptorSet } from '@mailroute/contracts';
import { ValidationError } from './errors';
import { createGrpcServer, serve, type GrpcServer } from './grpc-server';
import { createLogger } from './logger';

const logger = createLogger({
  name: 'reflection-test',
  level: 'silent',
  destination: new Writable({ write: (_c, _e, done) => done() }),
});

async function reflect(channel: Channel, request: ServerReflectionRequest): Promise<ServerReflectionResponse> {
  const client = createClient(ServerReflectionService, channel) as unknown as {
    serverReflectionInfo(requests: AsyncIterable<ServerReflectionRequest>): AsyncIterable<ServerReflectionResponse>;
  };
  async function* one(): AsyncIterable<ServerReflectionRequest> {
    yield request;
  }
  for await (const response of client.serverReflectionInfo(one())) return response;
  throw new Error('no reflection response');
}

describe('a mailroute service with contracts from @mailroute/contracts', () => {
  let server: GrpcServer;
  let channel: Channel;
  let address: string;

  beforeAll(async () => {
    server = createGrpcServer({
      logger,
      descriptorSet,
      services: [
        serve(AccessTokenServiceDefinition, {
          async getAccessToken(request: GetAccessTokenRequest) {
            if (!request.tenantId) throw new ValidationError('tenant_id', 'is required');
            throw new ValidationError('principal', 'is required');
          },
        }),
      ],
    });
    const port = await server.listen('127.0.0.1', 0);
    address = `127.0.0.1:${port}`;
    channel = createChannel(address);
  });

  afterAll(async () => {
    channel.close();
    await server.shutdown(1_000);
  });

  it('lists its services through gRPC server reflection', async () => {
    const response = await reflect(channel, new ServerReflectionRequest().setListServices(''));
    const names = response
      .getListServicesResponse()
      ?.getServiceList()
      .map((service) => service.getName());
    expect(names).toEqual(['mailroute.v1.AccessTokenService']);
  });

  it('describes a service so grpcurl can call it without .proto files', async () => {
    const response = await reflect(
      channel,
      new ServerReflectionRequest().setFileContainingSymbol('mailroute.v1.AccessTokenService'),
    );
    const files = response.getFileDescriptorResponse()?.getFileDescriptorProtoList() ?? [];
    expect(files.length).toBeGreaterThan(0);
    expect(Buffer.concat(files.map((file) => Buffer.from(file as Uint8Array))).toString('latin1')).toContain('GetAccessToken');
  });

  it('answers a request body that is not protobuf with INVALID_ARGUMENT, not INTERNAL', async () => {
    const raw = new grpc.Client(address, grpc.credentials.createInsecure());
    try {
      const error = await new Promise<grpc.ServiceError>((resolve) => {
        raw.makeUnaryRequest(
          '/mailroute.v1.AccessTokenService/GetAccessToken',
          (bytes: Buffer) => bytes,
          (bytes: Buffer) => bytes,
          Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]),
          (caught) => resolve(caught as grpc.ServiceError),
        );
      });
      expect(error.code).toBe(Status.INVALID_ARGUMENT);
      expect(error.details).toBe('request: is not a valid mailroute.v1.GetAccessTokenRequest protobuf message');
    } finally {
      raw.close();
    }
  });

  it('answers a malformed request with INVALID_ARGUMENT naming the field, over the wire', async () => {
    const client = createClient(AccessTokenServiceDefinition, channel);
    await expect(client.getAccessToken({ tenantId: '' })).rejects.toMatchObject({
      code: Status.INVALID_ARGUMENT,
      details: 'tenant_id: is required',
    });
  });
});
