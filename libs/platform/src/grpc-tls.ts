import { ChannelCredentials, ServerCredentials, experimental } from '@grpc/grpc-js';
import type { ServiceConfig } from './config';

/** The common GRPC_TLS_* variables (serviceConfigSchema), already validated. */
export type GrpcTlsConfig = Pick<
  ServiceConfig,
  | 'GRPC_HOST'
  | 'GRPC_TLS_CERT_FILE'
  | 'GRPC_TLS_KEY_FILE'
  | 'GRPC_TLS_CA_FILE'
  | 'GRPC_TLS_REQUIRE_CLIENT_CERT'
  | 'GRPC_TLS_RELOAD_INTERVAL_MS'
>;

/** What a gRPC client of the services needs: the CA, and its own certificate for mTLS (grpcClientTlsSchema). */
export type GrpcClientTlsConfig = Pick<
  GrpcTlsConfig,
  'GRPC_TLS_CERT_FILE' | 'GRPC_TLS_KEY_FILE' | 'GRPC_TLS_CA_FILE' | 'GRPC_TLS_RELOAD_INTERVAL_MS'
>;

// One file watcher per set of files, shared by the server and the clients of a process: grpc-js
// re-reads the files every GRPC_TLS_RELOAD_INTERVAL_MS and hands new certificates to live servers
// and channels, so a certificate that cert-manager rotates in the mounted Secret needs no restart.
const providers = new Map<string, experimental.FileWatcherCertificateProvider>();
function fileWatcher(config: experimental.FileWatcherCertificateProviderConfig): experimental.FileWatcherCertificateProvider {
  const key = JSON.stringify(config);
  let provider = providers.get(key);
  if (!provider) {
    provider = new experimental.FileWatcherCertificateProvider(config);
    providers.set(key, provider);
  }
  return provider;
}

/**
 * The gRPC server's credentials: TLS with GRPC_TLS_CERT_FILE/KEY_FILE (re-read on change), asking
 * for client certificates signed by GRPC_TLS_CA_FILE and refusing calls without one when
 * GRPC_TLS_REQUIRE_CLIENT_CERT is true; plaintext when no certificate is configured, which the
 * config rules allow only on a loopback GRPC_HOST (or behind a mesh, GRPC_PLAINTEXT_BEHIND_MESH).
 */
export function grpcServerCredentials(config: GrpcTlsConfig): ServerCredentials {
  if (!config.GRPC_TLS_CERT_FILE || !config.GRPC_TLS_KEY_FILE) return ServerCredentials.createInsecure();
  const refreshIntervalMs = config.GRPC_TLS_RELOAD_INTERVAL_MS;
  const identity = fileWatcher({
    certificateFile: config.GRPC_TLS_CERT_FILE,
    privateKeyFile: config.GRPC_TLS_KEY_FILE,
    refreshIntervalMs,
  });
  const clientCa = config.GRPC_TLS_CA_FILE
    ? fileWatcher({ caCertificateFile: config.GRPC_TLS_CA_FILE, refreshIntervalMs })
    : null;
  // grpc-js 1.14 names this function's parameters (ca, identity, …) but hands them to the
  // credentials' constructor as (identity, ca, …): the identity goes first.
  return experimental.createCertificateProviderServerCredentials(identity, clientCa, config.GRPC_TLS_REQUIRE_CLIENT_CERT);
}

/**
 * Credentials for calls to the other mailroute services: TLS verified against GRPC_TLS_CA_FILE,
 * presenting this service's own certificate (GRPC_TLS_CERT_FILE/KEY_FILE) as the client certificate
 * when there is one, both re-read on change; plaintext when no CA is configured (loopback or mesh).
 */
export function grpcClientCredentials(config: GrpcClientTlsConfig): ChannelCredentials {
  if (!config.GRPC_TLS_CA_FILE) return ChannelCredentials.createInsecure();
  const refreshIntervalMs = config.GRPC_TLS_RELOAD_INTERVAL_MS;
  const ca = fileWatcher({ caCertificateFile: config.GRPC_TLS_CA_FILE, refreshIntervalMs });
  const identity =
    config.GRPC_TLS_CERT_FILE && config.GRPC_TLS_KEY_FILE
      ? fileWatcher({ certificateFile: config.GRPC_TLS_CERT_FILE, privateKeyFile: config.GRPC_TLS_KEY_FILE, refreshIntervalMs })
      : null;
  return experimental.createCertificateProviderChannelCredentials(ca, identity);
}
