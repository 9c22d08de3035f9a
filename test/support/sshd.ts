/**
 * A private OpenSSH server for storage tests: Debian's /usr/sbin/sshd with its own config, host key and
 * pid file in a temp dir, on a free loopback port (never 22), and a test user of its own (created with
 * useradd, a random password and a key pair; removed at stop). Needs root (sshd switches to the user)
 * and the openssh-server package (`.ci/services/sshd-rclone.sh` installs it); `sshdUnavailable()` says
 * why it cannot run, for a visible skip.
 */
/** A running private sshd (see startSshd). */
export interface SshdServer {
  host: string;
  port: number;
  user: string;
  uid: number;
  gid: number;
  password: string;
  /** Client private key (ed25519, no passphrase) accepted for `user`. */
  keyFile: string;
  /** known_hosts with this server's host key as `[127.0.0.1]:<port>`. */
  knownHostsFile: string;
  /** A directory owned by `user` (the storage base of the tests). */
  storageDir: string;
  root: string;
  /** Stop the server AND every connection it serves (an outage, not just a closed listener). */
  stop(): Promise<void>;
  /** Start it again on the same port. */
  start(): Promise<void>;
  /** Stop and remove everything, the user included. */
  destroy(): Promise<void>;
}

// the implementation is plain JavaScript so that `npm run bench` (node, no TypeScript) uses the same server
const impl = require('./sshd-server.js') as {
  SSHD: string;
  sshdUnavailable(): string | null;
  rcloneUnavailable(): string | null;
  freePort(): Promise<number>;
  startSshd(): Promise<SshdServer>;
  rcloneObscure(password: string): string;
};

export const SSHD = impl.SSHD;
/** Why the sshd harness cannot run here, or null when it can. */
export const sshdUnavailable = impl.sshdUnavailable;
/** Why rclone cannot be used here, or null. */
export const rcloneUnavailable = impl.rcloneUnavailable;
export const freePort = impl.freePort;
/** Starts a private sshd with its own user; `destroy()` removes both. */
export const startSshd = impl.startSshd;
/** rclone's obscured form of a password (for RCLONE_CONFIG_<NAME>_PASS). */
export const rcloneObscure = impl.rcloneObscure;
