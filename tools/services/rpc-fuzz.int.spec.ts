import { ChannelCredentials, Client, Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import {
  create,
  createFileRegistry,
  fromBinary,
  ScalarType,
  toBinary,
  type DescField,
  type DescMessage,
  type DescMethod,
  type DescService,
} from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import fc from 'fast-check';
import { descriptorSet, mailrouteServiceNames } from '@mailroute/contracts';
import { demoProfile, type GraphSandbox, type GraphSandboxEndpoints } from '@mailroute/graph-sandbox';
import {
  freePort,
  signInWithDeviceCode,
  startServiceProcess,
  startTestGraphSandbox,
  testInfra,
  waitForServing,
  type ServiceProcess,
} from '@mailroute/testing';
import {
  dropFleetDatabases,
  newFleetTenant,
  registerFleetTenant,
  serviceEnvironment,
  serviceOrder,
  withProcessOutput,
  writeProcessLogs,
  type ServiceName,
} from './testing/service-fleet';

/**
 * Fuzzing every RPC of every service, generated from the descriptors of proto/ (a new RPC or field is
 * covered without editing this file). The four services run as real processes on FerretDB and the
 * graph sandbox (each on its in-process bus: Kafka plays no part in how a call is answered), called
 * through one raw gRPC channel per process with protobuf built from the descriptors.
 *
 * Each RPC is called with a plausible request in which one field at a time (down to RPC_FUZZ_DEPTH
 * levels) holds a malformed value for its type — empty, 1 MB, control characters and NUL, enum numbers
 * the proto does not define, negative and huge numbers, out-of-range timestamps and durations,
 * unknown or read-only update-mask paths, long lists — then with RPC_FUZZ_CALLS random combinations
 * of up to three of them (fast-check, seed RPC_FUZZ_SEED), once without credentials and once with
 * each other audience's credentials (an API key on the agent desktop API, an agent's token on the
 * internal token API, a service token on the workload-manager APIs).
 *
 * Every answer must be a deliberate status (never INTERNAL, UNKNOWN or DATA_LOSS) with a message of
 * at most 1024 characters; a malformed id, enum or mask must be INVALID_ARGUMENT; a call without
 * credentials UNAUTHENTICATED, one with another audience's UNAUTHENTICATED or PERMISSION_DENIED; the
 * same channel must keep working after every failure; and every process must still answer SERVING
 * at the end. Variables (README, "Design notes"): RPC_FUZZ_SEED, RPC_FUZZ_CALLS, RPC_FUZZ_DEPTH,
 * RPC_FUZZ_CONCURRENCY; RPC_FUZZ_REPORT=1 prints the calls by status, RPC_FUZZ_TEST_LOGS=<dir> keeps
 * the processes' logs.
 */
const settings = {
  seed: Number(process.env['RPC_FUZZ_SEED'] ?? 13),
  randomCalls: Number(process.env['RPC_FUZZ_CALLS'] ?? 200),
  depth: Number(process.env['RPC_FUZZ_DEPTH'] ?? 2),
  /** Calls in flight at once (over the four processes' channels). */
  concurrency: Number(process.env['RPC_FUZZ_CONCURRENCY'] ?? 8),
  report: process.env['RPC_FUZZ_REPORT'] === '1',
  logs: process.env['RPC_FUZZ_TEST_LOGS'],
};
const callDeadlineMs = 15_000;
const maxMessageLength = 1024;
const megabyte = 'x'.repeat(1024 * 1024);

const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, descriptorSet));
const services: DescService[] = mailrouteServiceNames.map((name) => {
  const service = registry.getService(name);
  if (!service) throw new Error(`${name} is not in the descriptor set`);
  return service;
});

/** Who may call a service, from the audience its leading comment states (common.proto, "Tenancy"). */
function audienceOf(service: DescService): 'internal' | 'workload-manager' | 'agent' {
  const index = service.file.services.indexOf(service);
  // FileDescriptorProto.service is field 6: a service's location path is [6, index].
  const leading =
    service.file.proto.sourceCodeInfo?.location.find((l) => l.path.length === 2 && l.path[0] === 6 && l.path[1] === index)
      ?.leadingComments ?? '';
  if (/^\s*Internal:/m.test(leading)) return 'internal';
  if (/^\s*Agent facing\b/m.test(leading)) return 'agent';
  return 'workload-manager';
}

/* -------------------------------------------------------------------------------------------------
 * Values: plausible ones (so validation of one field is what a call exercises) and malformed ones.
 * ---------------------------------------------------------------------------------------------- */

type Init = Record<string, unknown>;
const isWellKnown = (message: DescMessage) => message.typeName.startsWith('google.protobuf.');
const isIdField = (name: string) => /_ids?$/.test(name) || name === 'idempotency_key' || name === 'page_token';
/** Registered objects the fuzz must not delete (the agent signs in as alice; tokens need "default"). */
const resourceIds = ['fuzz-a', 'fuzz-b', 'support'];
let uniqueCounter = 0;

function plausibleString(field: DescField, methodName: string): string {
  const name = field.name;
  if (name === 'tenant_id') return tenant.tenantId;
  if (name === 'credentials_id') return methodName.startsWith('Delete') ? 'fuzz-a' : 'default';
  if (/^(queue|rule|sender_list|agent|mailbox|default_queue)_ids?$/.test(name))
    return methodName.startsWith('Delete') || methodName.startsWith('Update')
      ? 'fuzz-a'
      : (resourceIds[uniqueCounter++ % resourceIds.length] ?? 'fuzz-a');
  if (name === 'interaction_id') return 'ixn-fuzz';
  if (name === 'offer_id') return 'ixn-fuzz~1';
  if (name === 'idempotency_key') return `fuzz-${(uniqueCounter += 1)}`;
  if (name === 'client_instance_id') return 'fuzz-desk';
  if (name === 'page_token') return '';
  if (name === 'address' || name.endsWith('_address') || name === 'user_principal_name') return 'fuzz@contoso-demo.example';
  if (name.endsWith('_id')) return 'fuzz-id';
  return 'fuzz';
}

function plausibleScalar(field: DescField & { fieldKind: 'scalar' | 'list' }, methodName: string): unknown {
  switch (field.scalar) {
    case ScalarType.STRING:
      return plausibleString(field, methodName);
    case ScalarType.BOOL:
      return false;
    case ScalarType.BYTES:
      return new Uint8Array([1, 2, 3]);
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return 0n;
    default:
      return 0;
  }
}

function plausibleWellKnown(message: DescMessage): Init | undefined {
  switch (message.typeName) {
    case 'google.protobuf.Timestamp':
      return { seconds: BigInt(Math.floor(Date.now() / 1000)), nanos: 0 };
    case 'google.protobuf.Duration':
      return { seconds: 1n, nanos: 0 };
    case 'google.protobuf.FieldMask':
      return { paths: ['display_name'] };
    default:
      return undefined;
  }
}

/** A plausible request: every scalar set, nested messages down to `depth`. */
function plausibleMessage(message: DescMessage, methodName: string, depth: number): Init {
  const init: Init = {};
  for (const field of message.fields) {
    if (field.oneof && field.oneof.fields[0] !== field) continue; // one member per oneof: the first
    const value = plausibleField(field, methodName, depth);
    if (value === undefined) continue;
    if (field.oneof) init[field.oneof.localName] = { case: field.localName, value };
    else init[field.localName] = value;
  }
  return init;
}

function plausibleField(field: DescField, methodName: string, depth: number): unknown {
  switch (field.fieldKind) {
    case 'scalar':
      return plausibleScalar(field, methodName);
    case 'enum':
      return field.enum.values.find((v) => v.number !== 0)?.number ?? 0;
    case 'message':
      if (isWellKnown(field.message)) return plausibleWellKnown(field.message);
      return depth > 0 ? plausibleMessage(field.message, methodName, depth - 1) : undefined;
    case 'list':
      if (field.listKind === 'scalar') return [plausibleScalar(field, methodName)];
      if (field.listKind === 'enum') return [field.enum.values.find((v) => v.number !== 0)?.number ?? 0];
      return depth > 0 && !isWellKnown(field.message) ? [plausibleMessage(field.message, methodName, depth - 1)] : undefined;
    case 'map':
      return undefined;
  }
}

interface Mutation {
  label: string;
  value: unknown;
  /** The request is malformed in a way the field rules must refuse: INVALID_ARGUMENT, whatever the handler. */
  refuse: boolean;
}

const controlText = 'fuzz\u0000\r\nBcc: x@evil.example\u001b[2J\u0007';

function mutationsOf(field: DescField): Mutation[] {
  const scalarMutations = (scalar: ScalarType, name: string): Mutation[] => {
    switch (scalar) {
      case ScalarType.STRING: {
        const id = isIdField(name);
        return [
          { label: 'empty', value: '', refuse: false },
          { label: '1 MB', value: megabyte, refuse: id },
          { label: 'control characters and NUL', value: controlText, refuse: id },
          { label: 'RTL override and emoji', value: '\u202egnp.exe\u{1F600}', refuse: id && name !== 'internet_message_id' },
        ];
      }
      case ScalarType.BYTES:
        return [{ label: '1 MB of bytes', value: new Uint8Array(1024 * 1024), refuse: false }];
      case ScalarType.BOOL:
        return [{ label: 'true', value: true, refuse: false }];
      case ScalarType.DOUBLE:
      case ScalarType.FLOAT:
        return [
          { label: 'NaN', value: Number.NaN, refuse: false },
          { label: '-Infinity', value: Number.NEGATIVE_INFINITY, refuse: false },
        ];
      case ScalarType.INT64:
      case ScalarType.SINT64:
      case ScalarType.SFIXED64:
        return [
          { label: '-1', value: -1n, refuse: false },
          { label: 'int64 max', value: 9_223_372_036_854_775_807n, refuse: true },
          { label: 'int64 min', value: -9_223_372_036_854_775_808n, refuse: true },
        ];
      case ScalarType.UINT64:
      case ScalarType.FIXED64:
        return [{ label: 'uint64 max', value: 18_446_744_073_709_551_615n, refuse: true }];
      case ScalarType.UINT32:
      case ScalarType.FIXED32:
        return [{ label: 'uint32 max', value: 4_294_967_295, refuse: false }];
      default:
        return [
          { label: '-1', value: -1, refuse: false },
          { label: 'int32 min', value: -2_147_483_648, refuse: false },
          { label: 'int32 max', value: 2_147_483_647, refuse: false },
        ];
    }
  };
  switch (field.fieldKind) {
    case 'scalar':
      return scalarMutations(field.scalar, field.name);
    case 'enum':
      return [
        { label: 'enum 99', value: 99, refuse: true },
        { label: 'enum -1', value: -1, refuse: true },
        { label: 'enum int32 max', value: 2_147_483_647, refuse: true },
      ];
    case 'message':
      switch (field.message.typeName) {
        case 'google.protobuf.Timestamp':
          return [
            { label: 'timestamp year 10000', value: { seconds: 253_402_300_800n, nanos: 0 }, refuse: false },
            { label: 'timestamp before year 1', value: { seconds: -62_135_596_801n, nanos: 0 }, refuse: false },
            { label: 'timestamp nanos -1', value: { seconds: 0n, nanos: -1 }, refuse: false },
          ];
        case 'google.protobuf.Duration':
          return [
            { label: 'duration -1 s', value: { seconds: -1n, nanos: 0 }, refuse: false },
            { label: 'duration 10,000 years', value: { seconds: 315_576_000_000n, nanos: 0 }, refuse: false },
            { label: 'duration int64 max', value: { seconds: 9_223_372_036_854_775_807n, nanos: 0 }, refuse: true },
          ];
        case 'google.protobuf.FieldMask':
          return [
            { label: 'mask unknown path', value: { paths: ['no_such_field'] }, refuse: true },
            { label: 'mask output-only path', value: { paths: ['etag'] }, refuse: true },
            { label: 'mask "*" with another path', value: { paths: ['*', 'display_name'] }, refuse: true },
            { label: 'mask 1 MB path', value: { paths: [megabyte] }, refuse: true },
            { label: 'mask 65 paths', value: { paths: Array.from({ length: 65 }, () => 'display_name') }, refuse: true },
            { label: 'mask empty', value: { paths: [] }, refuse: false },
          ];
        default:
          return isWellKnown(field.message) ? [] : [{ label: 'empty message', value: {}, refuse: false }];
      }
    case 'list': {
      if (field.listKind === 'message')
        return isWellKnown(field.message)
          ? []
          : [{ label: '1,000 empty items', value: Array.from({ length: 1000 }, () => ({})), refuse: false }];
      const item =
        field.listKind === 'enum'
          ? 1
          : field.scalar === ScalarType.STRING
            ? 'fuzz-a'
            : field.scalar === ScalarType.BOOL
              ? true
              : 1;
      const listed = (
        field.listKind === 'enum'
          ? mutationsOf({ ...field, fieldKind: 'enum' } as unknown as DescField)
          : scalarMutations(field.scalar, field.name)
      ).map((m) => ({ ...m, label: `[${m.label}]`, value: [m.value] }));
      return [...listed, { label: '10,000 items', value: Array.from({ length: 10_000 }, () => item), refuse: false }];
    }
    case 'map':
      return [];
  }
}

/** A field reached from the request through message fields (list items: the first). */
type FieldPath = readonly DescField[];

function fieldPaths(message: DescMessage, depth: number, prefix: FieldPath = []): FieldPath[] {
  const out: FieldPath[] = [];
  for (const field of message.fields) {
    const path = [...prefix, field];
    out.push(path);
    const nested =
      field.fieldKind === 'message' || (field.fieldKind === 'list' && field.listKind === 'message') ? field.message : undefined;
    if (
      nested &&
      !isWellKnown(nested) &&
      depth > 1 &&
      !prefix.some((p) => (p.fieldKind === 'message' || p.fieldKind === 'list') && p.message?.typeName === nested.typeName)
    ) {
      out.push(...fieldPaths(nested, depth - 1, path));
    }
  }
  return out;
}

/** Sets `value` at `path` of a request init, creating parents (a list's first item, a oneof's member). */
function setPath(init: Init, path: FieldPath, value: unknown): void {
  let target = init;
  path.forEach((field, index) => {
    const last = index === path.length - 1;
    const put = (next: unknown) => {
      if (field.oneof) target[field.oneof.localName] = { case: field.localName, value: next };
      else target[field.localName] = next;
    };
    const current = field.oneof
      ? (target[field.oneof.localName] as { case?: string; value?: unknown } | undefined)?.case === field.localName
        ? (target[field.oneof.localName] as { value: unknown }).value
        : undefined
      : target[field.localName];
    if (last) return put(value);
    if (field.fieldKind === 'list') {
      const list = Array.isArray(current) && current.length > 0 ? (current as Init[]) : [{}];
      put(list);
      target = list[0] as Init;
    } else {
      const object = typeof current === 'object' && current !== null ? (current as Init) : {};
      put(object);
      target = object;
    }
  });
}

const pathName = (path: FieldPath) => path.map((f) => f.name).join('.');

/* -------------------------------------------------------------------------------------------------
 * Calls over raw gRPC channels.
 * ---------------------------------------------------------------------------------------------- */

interface Outcome {
  code: number;
  details: string;
}

const identity = (bytes: Buffer) => bytes;
const serialize = (bytes: Uint8Array) => Buffer.from(bytes);

function callMethod(client: Client, method: DescMethod, bytes: Uint8Array, metadata: Metadata): Promise<Outcome> {
  const path = `/${method.parent.typeName}/${method.name}`;
  const options = { deadline: Date.now() + callDeadlineMs };
  return new Promise<Outcome>((resolve) => {
    const done = (error: ServiceError | null | undefined) =>
      resolve(error ? { code: error.code, details: error.details ?? '' } : { code: GrpcStatus.OK, details: '' });
    switch (method.methodKind) {
      case 'unary':
        client.makeUnaryRequest(path, serialize, identity, bytes, metadata, options, (error) => done(error));
        return;
      case 'server_streaming': {
        // The first message (e.g. Connect's snapshot) shows the call was accepted; then we hang up.
        const call = client.makeServerStreamRequest(path, serialize, identity, bytes, metadata, options);
        let received = false;
        call.on('data', () => {
          received = true;
          call.cancel();
        });
        call.on('error', (error: ServiceError) => done(received && error.code === GrpcStatus.CANCELLED ? null : error));
        call.on('end', () => done(null));
        return;
      }
      case 'client_streaming': {
        const call = client.makeClientStreamRequest(path, serialize, identity, metadata, options, (error) => done(error));
        call.write(bytes);
        call.end();
        return;
      }
      default: {
        const call = client.makeBidiStreamRequest(path, serialize, identity, metadata, options);
        call.on('data', () => call.cancel());
        call.on('error', (error: ServiceError) => done(error.code === GrpcStatus.CANCELLED ? null : error));
        call.on('end', () => done(null));
        call.write(bytes);
        call.end();
      }
    }
  });
}

/** grpc.health.v1 Check through `client`'s own channel: SERVING is the response bytes 08 01. */
function healthCheck(client: Client, service = ''): Promise<'SERVING' | string> {
  const request = service
    ? Buffer.concat([Buffer.from([0x0a, Buffer.byteLength(service)]), Buffer.from(service)])
    : Buffer.alloc(0);
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      '/grpc.health.v1.Health/Check',
      serialize,
      identity,
      request,
      new Metadata(),
      { deadline: Date.now() + 10_000 },
      (error, response) => {
        if (error) resolve(`${GrpcStatus[error.code]}: ${error.details}`);
        else resolve(response?.equals(Buffer.from([0x08, 0x01])) ? 'SERVING' : `status bytes ${response?.toString('hex')}`);
      },
    );
  });
}

/** Runs `jobs` with at most `limit` in flight. */
async function runConcurrently(jobs: readonly (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const job = jobs[next];
      next += 1;
      await job?.();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
}

/* -------------------------------------------------------------------------------------------------
 * The fleet and the run.
 * ---------------------------------------------------------------------------------------------- */

const tenant = newFleetTenant('fuzz');
const agent = { id: 'alice', upn: 'alice@contoso-demo.example' };
const mailbox = demoProfile.routedMailboxes[0] ?? '';

interface Target {
  service: DescService;
  client: Client;
  metadata: () => Metadata;
}

interface Finding {
  rpc: string;
  field: string;
  mutation: string;
  code: string;
  details: string;
  problem: string;
}

describe('every RPC of every service under malformed input', () => {
  let sandbox: GraphSandbox;
  let endpoints: GraphSandboxEndpoints;
  const running = new Map<ServiceName, ServiceProcess>();
  const address = new Map<ServiceName, string>();
  const clients = new Map<ServiceName, Client>();
  const targets: Target[] = [];
  const counts = new Map<string, number>();
  const callsByRpc = new Map<string, number>();
  const msByRpc = new Map<string, number>();
  const findings: Finding[] = [];
  let started = 0;
  let credentials: Record<'internal' | 'workload-manager' | 'agent', () => Metadata>;

  beforeAll(async () => {
    ({ sandbox, endpoints } = await startTestGraphSandbox({ profile: 'demo', deviceCodeIntervalSeconds: 1 }));
    const { mongoUrl } = testInfra();
    for (const service of serviceOrder) address.set(service, `127.0.0.1:${await freePort()}`);
    for (const service of serviceOrder) {
      const variables = serviceEnvironment(service, {
        tenant,
        endpoints,
        mongoUrl,
        brokers: '',
        authBrokerAddress: address.get('auth-broker') ?? '',
        // Metrics on any free port: a fixed default collides with a suite running beside this one.
        common: {
          GRPC_PORT: (address.get(service) ?? '').split(':')[1] ?? '0',
          LOG_LEVEL: 'warn',
          NODE_EXTRA_CA_CERTS: endpoints.caCertPath,
          ROUTER_METRICS_PORT: '0',
        },
      });
      // Each process on its in-process bus (see the file comment).
      for (const name of Object.keys(variables)) if (name.endsWith('_KAFKA_BROKERS')) delete variables[name];
      if (service === 'outbound-send')
        variables['OUTBOUND_SEND_API_KEYS'] = `wm:${tenant.tenantId}:sends.read+sends.write+sends.supervise:${tenant.apiKeyHash}`;
      running.set(service, startServiceProcess(`apps/${service}/src/main.ts`, variables));
    }
    await Promise.all(
      serviceOrder.map((service) =>
        waitForServing(address.get(service) ?? '', { timeoutMs: 120_000 }).catch((error: unknown) => {
          throw withProcessOutput(service, running.get(service), error);
        }),
      ),
    );
    await registerFleetTenant({
      tenant,
      endpoints,
      address: (service) => address.get(service) ?? '',
      displayName: 'Contoso (fuzz)',
      agents: [agent],
      mailboxes: [mailbox],
    });
    const agentToken = await signInWithDeviceCode(
      endpoints,
      endpoints.admin,
      demoProfile.tenantId,
      demoProfile.desktopClientId,
      agent.upn,
    );

    for (const service of serviceOrder)
      clients.set(service, new Client(address.get(service) ?? '', ChannelCredentials.createInsecure()));
    const bearer = (token: string) => () => {
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${token}`);
      return metadata;
    };
    credentials = { internal: bearer(tenant.fetchToken), 'workload-manager': bearer(tenant.apiKey), agent: bearer(agentToken) };
    const tokens = credentials;
    // Which process serves which service: the one whose health knows its name.
    for (const service of services) {
      for (const [name, client] of clients) {
        if ((await healthCheck(client, service.typeName)) !== 'SERVING') continue;
        targets.push({ service, client, metadata: tokens[audienceOf(service)] });
        if (settings.report) process.stdout.write(`rpc fuzz: ${service.typeName} on ${name} (${audienceOf(service)})\n`);
        break;
      }
    }
    started = performance.now();
  }, 300_000);

  afterAll(async () => {
    for (const client of clients.values()) client.close();
    if (settings.logs) writeProcessLogs(settings.logs, running);
    for (const proc of running.values()) await proc.stop('SIGTERM');
    await sandbox?.stop();
    await dropFleetDatabases(tenant);
  });

  function count(code: number): void {
    const name = GrpcStatus[code] ?? String(code);
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }

  /** Calls and judges one request; returns the outcome. */
  async function probe(
    target: Target,
    method: DescMethod,
    init: Init,
    label: { field: string; mutation: string },
    expectation: { refuse: boolean; metadata?: Metadata; allowed?: readonly number[] },
  ): Promise<void> {
    const rpc = `${target.service.name}.${method.name}`;
    let bytes: Uint8Array;
    try {
      bytes = toBinary(method.input, create(method.input, init as never));
    } catch (error) {
      throw new Error(`cannot encode ${rpc} with ${label.field} = ${label.mutation}: ${String(error)}`);
    }
    const callStarted = performance.now();
    const outcome = await callMethod(target.client, method, bytes, expectation.metadata ?? target.metadata());
    msByRpc.set(rpc, (msByRpc.get(rpc) ?? 0) + performance.now() - callStarted);
    count(outcome.code);
    callsByRpc.set(rpc, (callsByRpc.get(rpc) ?? 0) + 1);
    const finding = (problem: string) =>
      findings.push({
        rpc,
        ...label,
        code: GrpcStatus[outcome.code] ?? String(outcome.code),
        details: outcome.details.slice(0, 200),
        problem,
      });
    if ([GrpcStatus.INTERNAL, GrpcStatus.UNKNOWN, GrpcStatus.DATA_LOSS].includes(outcome.code)) finding('an undeliberate status');
    if (outcome.details.length > maxMessageLength) finding(`a ${outcome.details.length}-character message`);
    if (expectation.allowed && !expectation.allowed.includes(outcome.code))
      finding(`not ${expectation.allowed.map((code) => GrpcStatus[code]).join(' or ')}`);
    else if (expectation.refuse && !refused(method, outcome.code)) finding('malformed, but not INVALID_ARGUMENT');
    if (
      outcome.code === GrpcStatus.UNAVAILABLE ||
      outcome.code === GrpcStatus.INTERNAL ||
      outcome.code === GrpcStatus.CANCELLED
    ) {
      const health = await healthCheck(target.client);
      if (health !== 'SERVING') finding(`the channel stopped working (health: ${health})`);
    }
  }

  /**
   * Whether a malformed request was refused: INVALID_ARGUMENT, or UNIMPLEMENTED from a method that
   * is not there yet. A client stream's messages are checked as its handler reads them, so a handler
   * that refuses the call without reading (an upload that is not available yet) refuses it so.
   */
  function refused(method: DescMethod, code: number): boolean {
    if (code === GrpcStatus.INVALID_ARGUMENT || code === GrpcStatus.UNIMPLEMENTED) return true;
    return method.methodKind === 'client_streaming' && code !== GrpcStatus.OK;
  }

  /** The findings a test added (each test asserts its own). */
  function since(start: number): Finding[] {
    return findings.slice(start, start + 30);
  }

  it('finds a process serving every service of proto/', () => {
    expect(targets.map((t) => t.service.typeName).sort()).toEqual([...mailrouteServiceNames].sort());
  });

  it('refuses every RPC without credentials as UNAUTHENTICATED', async () => {
    for (const target of targets) {
      for (const method of target.service.methods) {
        await probe(
          target,
          method,
          plausibleMessage(method.input, method.name, 1),
          { field: '(none)', mutation: 'no credentials' },
          { refuse: false, metadata: new Metadata(), allowed: [GrpcStatus.UNAUTHENTICATED] },
        );
      }
    }
    expect(findings.filter((f) => f.mutation === 'no credentials').slice(0, 30)).toEqual([]);
  });

  it("refuses every RPC with another audience's credentials (an API key on the desktop API, an agent token on the internal one, …)", async () => {
    const start = findings.length;
    for (const target of targets) {
      const audience = audienceOf(target.service);
      for (const [other, metadata] of Object.entries(credentials)) {
        if (other === audience) continue;
        for (const method of target.service.methods) {
          await probe(
            target,
            method,
            plausibleMessage(method.input, method.name, 1),
            { field: '(none)', mutation: `${other} credentials` },
            { refuse: false, metadata: metadata(), allowed: [GrpcStatus.UNAUTHENTICATED, GrpcStatus.PERMISSION_DENIED] },
          );
        }
      }
    }
    expect(since(start)).toEqual([]);
  }, 600_000);

  it(`answers one malformed field at a time deliberately, on every RPC (depth ${settings.depth})`, async () => {
    const start = findings.length;
    const jobs: (() => Promise<void>)[] = [];
    for (const target of targets) {
      for (const method of target.service.methods) {
        for (const path of fieldPaths(method.input, settings.depth)) {
          const last = path[path.length - 1];
          if (!last) continue;
          for (const mutation of mutationsOf(last)) {
            jobs.push(() => {
              const init = plausibleMessage(method.input, method.name, settings.depth);
              setPath(init, path, mutation.value);
              return probe(
                target,
                method,
                init,
                { field: pathName(path), mutation: mutation.label },
                { refuse: mutation.refuse },
              );
            });
          }
        }
      }
    }
    await runConcurrently(jobs, settings.concurrency);
    expect(since(start)).toEqual([]);
  }, 900_000);

  it(`answers ${settings.randomCalls} random combinations deliberately (seed ${settings.seed})`, async () => {
    const start = findings.length;
    const cases = targets.flatMap((target) =>
      target.service.methods.map((method) => ({ target, method, paths: fieldPaths(method.input, settings.depth + 1) })),
    );
    const choices = fc.sample(
      fc.record({
        rpc: fc.nat({ max: cases.length - 1 }),
        depth: fc.integer({ min: 0, max: 3 }),
        mutations: fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 3 }),
      }),
      { seed: settings.seed, numRuns: settings.randomCalls },
    );
    const jobs = choices.map((choice) => async () => {
      const picked = cases[choice.rpc];
      if (!picked || picked.paths.length === 0) return;
      const init = plausibleMessage(picked.method.input, picked.method.name, choice.depth);
      const applied: string[] = [];
      for (const [pathIndex, mutationIndex] of choice.mutations) {
        const path = picked.paths[pathIndex % picked.paths.length] ?? [];
        const options = mutationsOf(path[path.length - 1] as DescField);
        const mutation = options[mutationIndex % Math.max(1, options.length)];
        if (!mutation) continue;
        setPath(init, path, mutation.value);
        applied.push(`${pathName(path)}=${mutation.label}`);
      }
      // Several mutations may overwrite one another (a nested field, then its parent): only the
      // invariants that hold for any request are asserted here.
      await probe(picked.target, picked.method, init, { field: applied.join(', '), mutation: 'random' }, { refuse: false });
    });
    await runConcurrently(jobs, settings.concurrency);
    expect(since(start)).toEqual([]);
  }, 900_000);

  it('covered every RPC, and every process still answers SERVING on the same channel', async () => {
    const rpcs = targets.flatMap((t) => t.service.methods.map((m) => `${t.service.name}.${m.name}`));
    expect(rpcs.filter((rpc) => (callsByRpc.get(rpc) ?? 0) === 0)).toEqual([]);
    for (const [service, client] of clients)
      expect({ service, health: await healthCheck(client) }).toEqual({ service, health: 'SERVING' });
    for (const [service, proc] of running)
      expect({ service, exitCode: proc.child.exitCode }).toEqual({ service, exitCode: null });
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const line = `rpc fuzz: seed ${settings.seed}, depth ${settings.depth}, ${rpcs.length} RPCs, ${total} calls in ${Math.round((performance.now() - started) / 1000)} s: ${[
      ...counts,
    ]
      .sort((a, b) => b[1] - a[1])
      .map(([code, n]) => `${code} ${n}`)
      .join(', ')}`;
    const slowest = [...msByRpc]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([rpc, ms]) => `${rpc} ${Math.round(ms / 1000)} s / ${callsByRpc.get(rpc) ?? 0} calls`);
    if (settings.report) process.stdout.write(`${line}\nrpc fuzz: most time in ${slowest.join('; ')}\n`);
    expect(total).toBeGreaterThan(rpcs.length);
  });
});
