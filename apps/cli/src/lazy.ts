/**
 * Heavy libraries loaded on first use, so `pdr --help`, usage errors and offline commands start fast
 * (@pdr/messaging/client pulls in NATS, @pdr/config the YAML parser and every schema).
 */
export type Messaging = typeof import('@pdr/messaging/client');
export type Config = typeof import('@pdr/config');

export function messaging(): Messaging {
  return require('@pdr/messaging/client') as Messaging;
}

export function config(): Config {
  return require('@pdr/config') as Config;
}
