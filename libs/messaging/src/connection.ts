import { readFileSync } from 'fs';
import { connect, ConnectionOptions, credsAuthenticator, NatsConnection, NatsError, nkeyAuthenticator } from 'nats';
import { ConfigError, natsSettingsFromEnv, type NatsConfig } from '@pdr/config';
import { maskText, maskUrl, registerSecret } from '@pdr/logging';

/** NATS URL from PDR_NATS_URL, default the local server. */
export function natsUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.PDR_NATS_URL || 'nats://127.0.0.1:4222';
}

/** Reconnect wait: short enough that a restarted nats-server is found again within seconds. */
const RECONNECT_WAIT_MS = 500;

function readSecretFile(path: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`${what} ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

function checkReadable(path: string, what: string): string {
  readSecretFile(path, what);
  return path;
}

/**
 * The nats.js options for the configured authentication: token, user/password, NKey seed file, .creds
 * file (JWT + seed) and TLS (CA, client certificate and key). Files are read here, so a missing one is
 * a ConfigError naming it, never their content.
 */
export function natsAuthOptions(s: NatsConfig): Partial<ConnectionOptions> {
  const o: Partial<ConnectionOptions> = {};
  if (s.inbox_prefix) o.inboxPrefix = s.inbox_prefix;
  if (s.token) o.token = s.token;
  if (s.user) {
    o.user = s.user;
    if (s.password) o.pass = s.password;
  }
  if (s.nkey_seed_file) {
    const seed = new TextDecoder().decode(readSecretFile(s.nkey_seed_file, 'NATS NKey seed file')).trim();
    if (!/^SU[A-Z2-7]{56}$/.test(seed)) throw new ConfigError(`NATS NKey seed file ${s.nkey_seed_file} does not hold a user seed (one line starting with SU)`);
    registerSecret(seed);
    o.authenticator = nkeyAuthenticator(new TextEncoder().encode(seed));
  }
  if (s.creds_file) {
    const creds = readSecretFile(s.creds_file, 'NATS credentials file');
    const text = new TextDecoder().decode(creds);
    if (!/-----BEGIN NATS USER JWT-----/.test(text) || !/-----BEGIN USER NKEY SEED-----/.test(text)) {
      throw new ConfigError(`NATS credentials file ${s.creds_file} is not a .creds file (user JWT and NKey seed)`);
    }
    for (const m of text.matchAll(/\bSU[A-Z2-7]{56}\b/g)) registerSecret(m[0]);
    o.authenticator = credsAuthenticator(creds);
  }
  if (s.tls_ca || s.tls_cert || s.tls_key) {
    o.tls = {
      ...(s.tls_ca ? { caFile: checkReadable(s.tls_ca, 'NATS TLS CA file') } : {}),
      ...(s.tls_cert ? { certFile: checkReadable(s.tls_cert, 'NATS TLS certificate file') } : {}),
      ...(s.tls_key ? { keyFile: checkReadable(s.tls_key, 'NATS TLS key file') } : {}),
    };
  }
  return o;
}

/** Which method a refused connection used, for the error line (never a value). */
function methodOf(s: NatsConfig): string {
  if (s.creds_file) return `credentials file ${s.creds_file}`;
  if (s.nkey_seed_file) return `NKey seed file ${s.nkey_seed_file}`;
  if (s.token) return 'token (PDR_NATS_TOKEN / nats.token)';
  if (s.user) return `user "${s.user}"`;
  return 'no credentials (set PDR_NATS_USER/PDR_NATS_PASSWORD, PDR_NATS_TOKEN, PDR_NATS_NKEY_SEED_FILE or PDR_NATS_CREDS_FILE)';
}

export interface ConnectNatsOptions {
  /** Overrides settings.url. */
  url?: string;
  name: string;
  reconnect?: boolean;
  /** Connection settings; default the PDR_NATS_* variables of this process. */
  settings?: NatsConfig;
}

/**
 * The one place a NATS connection is made. Connects with endless reconnects: a service outlives a
 * restart of nats-server (in-flight requests fail and are retried by their callers; JetStream keeps the
 * job events). Authentication and TLS come from `settings` (PDR_NATS_* / the config's `nats` section).
 */
export async function connectNats(opts: ConnectNatsOptions): Promise<NatsConnection> {
  const settings = opts.settings ?? natsSettingsFromEnv(process.env);
  const url = opts.url ?? settings.url ?? natsUrlFromEnv();
  const auth = natsAuthOptions(settings);
  try {
    return await connect({
      servers: url,
      name: opts.name,
      maxReconnectAttempts: opts.reconnect === false ? 0 : -1,
      reconnectTimeWait: RECONNECT_WAIT_MS,
      waitOnFirstConnect: false,
      // nats.js otherwise captures up to three stack traces per request (for an async trace on a
      // timeout): with 10^5 job-event publishes that was over half of the planner's CPU (npm run bench,
      // docs/benchmarks.md). Our errors name the subject and the service instead.
      noAsyncTraces: true,
      ...auth,
    });
  } catch (err) {
    const code = (err as NatsError).code;
    const message = maskText((err as Error).message);
    if (code === 'AUTHORIZATION_VIOLATION' || code === 'AUTHENTICATION_EXPIRED' || /authori[sz]ation|authentication/i.test(message)) {
      throw new ConfigError(`NATS at ${maskUrl(url)} refused the connection with ${methodOf(settings)}: ${message}`);
    }
    if (/tls|certificate|ssl/i.test(message)) {
      throw new ConfigError(`TLS to NATS at ${maskUrl(url)} failed: ${message} (check PDR_NATS_TLS_CA, PDR_NATS_TLS_CERT, PDR_NATS_TLS_KEY and the URL's host name)`);
    }
    throw new NatsUnavailableError(`cannot reach NATS at ${maskUrl(url)} (${message}); start nats-server with JetStream (-js) or set PDR_NATS_URL`);
  }
}

export class NatsUnavailableError extends Error {
  override name = 'NatsUnavailableError';
}
