import { environmentOf, type Container, type K8sObject, type PodSpec } from '../k8s-object';

/** What a violation of the rule says, and where. */
export type TransportReport = (object: string, message: string) => void;

/** Variables that name another service's gRPC address (`host:port`): the container is a gRPC client. */
const grpcAddressVariable = /_ADDRESS$/;
/** Variables that name Kafka bootstrap brokers: the container is a Kafka client. */
const kafkaBrokersVariable = /KAFKA_BROKERS$/;

/**
 * The production rule "encrypted-transport": a gRPC server (a port named grpc) serves mTLS — a
 * certificate, its key and the internal CA from a mounted Secret, client certificates required,
 * GRPC_ALLOW_PLAINTEXT not true; a gRPC client (an `…_ADDRESS` variable) verifies the servers
 * against that CA and presents a certificate; a Kafka client (`…KAFKA_BROKERS`) uses TLS and
 * authenticates with SASL or a client certificate. Read from the rendered environment, so a
 * ConfigMap merge that turns TLS off in an overlay is caught like an edited Deployment.
 */
export function checkEncryptedTransport(
  where: string,
  pod: PodSpec,
  container: Container,
  objects: readonly K8sObject[],
  namespace: string | undefined,
  report: TransportReport,
): void {
  const environment = environmentOf(container, objects, namespace);
  const declared = new Set([...Object.keys(environment), ...(container.env ?? []).map((variable) => variable.name)]);
  const set = (name: string) => declared.has(name) && environment[name] !== '';
  const fromSecret = (name: string) => {
    const file = environment[name];
    if (!file) return false;
    const mount = (container.volumeMounts ?? []).find((candidate) =>
      file.startsWith(`${candidate.mountPath.replace(/\/$/, '')}/`),
    );
    const volume = pod.volumes?.find((candidate) => candidate.name === mount?.name);
    return Boolean(volume && (volume['secret'] || volume['projected'] || volume['csi']));
  };
  const serves = (container.ports ?? []).some((port) => port.name === 'grpc');
  const calls = Object.entries(environment).some(([name, value]) => grpcAddressVariable.test(name) && value !== '');
  if (serves || calls) {
    if (environment['GRPC_ALLOW_PLAINTEXT'] === 'true')
      report(where, 'GRPC_ALLOW_PLAINTEXT=true: gRPC in plaintext off loopback');
    for (const name of ['GRPC_TLS_CERT_FILE', 'GRPC_TLS_KEY_FILE', 'GRPC_TLS_CA_FILE']) {
      if (!set(name)) report(where, `${name} is not set: gRPC ${serves ? 'serves' : 'calls'} in plaintext`);
      else if (!fromSecret(name)) report(where, `${name} (${environment[name]}) is not on a mounted Secret volume`);
    }
  }
  if (serves && environment['GRPC_TLS_REQUIRE_CLIENT_CERT'] !== 'true')
    report(where, 'GRPC_TLS_REQUIRE_CLIENT_CERT is not true: the gRPC server accepts clients without a certificate');
  const kafka = Object.entries(environment).some(([name, value]) => kafkaBrokersVariable.test(name) && value !== '');
  if (kafka) {
    if (environment['KAFKA_TLS'] !== 'true') report(where, 'KAFKA_TLS is not true: Kafka in plaintext');
    if (!set('KAFKA_SASL_MECHANISM') && !set('KAFKA_TLS_CERT_FILE'))
      report(where, 'neither KAFKA_SASL_MECHANISM nor KAFKA_TLS_CERT_FILE is set: the brokers cannot authenticate the client');
  }
}
