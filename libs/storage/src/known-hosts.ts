import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * Host key checking against an OpenSSH known_hosts file (plain and hashed `|1|salt|hash` host names,
 * `[host]:port` for ports other than 22, comma-separated names, `@revoked` markers). Wildcard patterns
 * are not matched (a host listed only by pattern is "unknown"): never a reason to accept a key.
 */
export interface KnownHostsVerdict {
  ok: boolean;
  /** Why a key was refused (names the file, host and key type), for the error message. */
  reason?: string;
}

function hostNames(host: string, port: number): string[] {
  return port === 22 ? [host, `[${host}]:22`] : [`[${host}]:${port}`];
}

function matchesName(entry: string, names: string[]): boolean {
  for (const pat of entry.split(',')) {
    if (pat.startsWith('|1|')) {
      const [, , salt, hash] = pat.split('|');
      if (!salt || !hash) continue;
      const saltBuf = Buffer.from(salt, 'base64');
      for (const n of names) if (createHmac('sha1', saltBuf).update(n).digest('base64') === hash) return true;
    } else if (names.includes(pat.toLowerCase())) {
      return true;
    }
  }
  return false;
}

/** Check `key` (the server's raw public key blob) for `host:port` against the known_hosts `file`. */
export function checkKnownHost(file: string, host: string, port: number, key: Buffer): KnownHostsVerdict {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { ok: false, reason: `known_hosts file ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
  }
  const names = hostNames(host.toLowerCase(), port);
  const keyType = key.length > 4 ? key.subarray(4, 4 + key.readUInt32BE(0)).toString('latin1') : 'unknown';
  let listed = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const parts = line.split(/\s+/);
    let marker: string | null = null;
    if (parts[0].startsWith('@')) marker = parts.shift() as string;
    if (parts.length < 3 || !matchesName(parts[0], names)) continue;
    let blob: Buffer;
    try {
      blob = Buffer.from(parts[2], 'base64');
    } catch {
      continue;
    }
    const same = blob.equals(key);
    if (marker === '@revoked' && same) return { ok: false, reason: `the host key of ${names[0]} is marked @revoked in ${file}` };
    if (marker) continue; // @cert-authority: certificates are not used here
    if (same) return { ok: true };
    if (parts[1] === keyType) listed = true;
  }
  return {
    ok: false,
    reason: listed
      ? `the ${keyType} host key of ${names[0]} differs from the one in ${file} (a changed server, or someone in between)`
      : `${names[0]} has no ${keyType} host key in ${file} (add it with: ssh-keyscan -p ${port} ${host} >> ${file})`,
  };
}
