'use strict';
/**
 * A private OpenSSH server for storage tests: Debian's /usr/sbin/sshd with its own config, host key and
 * pid file in a temp dir, on a free loopback port (never 22), and a test user of its own (created with
 * useradd, a random password and a key pair; removed at stop). Needs root (sshd switches to the user)
 * and the openssh-server package (`.ci/services/sshd-rclone.sh` installs it); `sshdUnavailable()` says
 * why it cannot run, for a visible skip.
 */
const { execFileSync, spawn } = require('child_process');
const { randomBytes } = require('crypto');
const { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } = require('fs');
const { createConnection, createServer } = require('net');
const { tmpdir } = require('os');
const { join } = require('path');

const SSHD = '/usr/sbin/sshd';

/** Why the sshd harness cannot run here, or null when it can. */
function sshdUnavailable() {
  if (!existsSync(SSHD)) return `${SSHD} not installed (apt-get install openssh-server, or run .ci/services/sshd-rclone.sh)`;
  if (process.getuid?.() !== 0) return 'not running as root (the test sshd must switch to its test user)';
  return null;
}

/** Why rclone cannot be used here, or null. */
function rcloneUnavailable() {
  try {
    execFileSync('rclone', ['version'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'rclone not installed (apt-get install rclone, or run .ci/services/sshd-rclone.sh)';
  }
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function portOpen(port) {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Pids of every process below `pid` (per-connection sshd children and their sftp sessions). */
function descendants(pid) {
  const parent = new Map();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(e), ppid);
    } catch {
      // gone meanwhile
    }
  }
  const out = [];
  const walk = (p) => {
    for (const [c, pp] of parent) {
      if (pp === p) {
        out.push(c);
        walk(c);
      }
    }
  };
  walk(pid);
  return out;
}

function hasUser(user) {
  try {
    execFileSync('id', ['-u', user], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function startSshd() {
  const why = sshdUnavailable();
  if (why) throw new Error(`sshd harness: ${why}`);
  const root = mkdtempSync(join(tmpdir(), 'pdr-sshd-'));
  chmodSync(root, 0o755);
  const user = `pdrt${randomBytes(4).toString('hex')}`;
  const password = `pw-${randomBytes(9).toString('base64url')}`;
  execFileSync('useradd', ['-M', '-d', root, '-s', '/bin/sh', user], { stdio: 'pipe' });
  execFileSync('chpasswd', [], { input: `${user}:${password}\n`, stdio: ['pipe', 'pipe', 'pipe'] });
  const uid = Number(execFileSync('id', ['-u', user]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', user]).toString().trim());
  const storageDir = join(root, 'storage');
  mkdirSync(storageDir);
  chownSync(storageDir, uid, gid);

  const hostKey = join(root, 'host_ed25519');
  const keyFile = join(root, 'client_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
  writeFileSync(join(root, 'authorized_keys'), readFileSync(`${keyFile}.pub`));
  const port = await freePort();
  const knownHostsFile = join(root, 'known_hosts');
  const [type, blob] = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/);
  writeFileSync(knownHostsFile, `[127.0.0.1]:${port} ${type} ${blob}\n`);
  const config = join(root, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(root, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(root, 'authorized_keys')}`,
      'StrictModes no',
      'PasswordAuthentication yes',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'UsePAM no',
      'PermitRootLogin no',
      `AllowUsers ${user}`,
      'Subsystem sftp internal-sftp',
      'MaxStartups 200',
      'MaxSessions 200',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  mkdirSync('/run/sshd', { recursive: true });

  let child = null;
  const start = async () => {
    if (child) return;
    const c = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr?.on('data', (d) => (err += String(d)));
    child = c;
    c.once('exit', () => {
      if (child === c) child = null;
    });
    for (let i = 0; i < 200; i++) {
      if (await portOpen(port)) return;
      if (!child) throw new Error(`sshd exited at start: ${err}`);
      await sleep(50);
    }
    throw new Error(`sshd did not listen on 127.0.0.1:${port}: ${err}`);
  };
  const stop = async () => {
    const c = child;
    if (!c || c.pid === undefined) return;
    const pids = [c.pid, ...descendants(c.pid)];
    const exited = new Promise((r) => c.once('exit', () => r()));
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await exited;
    child = null;
    while (await portOpen(port)) await sleep(50);
  };
  await start();
  return {
    host: '127.0.0.1',
    port,
    user,
    uid,
    gid,
    password,
    keyFile,
    knownHostsFile,
    storageDir,
    root,
    stop,
    start,
    destroy: async () => {
      await stop();
      // -f: the user's last sftp sessions may still be on their way out
      for (let i = 0; i < 20; i++) {
        try {
          execFileSync('userdel', ['-f', user], { stdio: 'ignore' });
          break;
        } catch {
          if (!hasUser(user)) break;
          await sleep(100);
        }
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** rclone's obscured form of a password (for RCLONE_CONFIG_<NAME>_PASS). */
function rcloneObscure(password) {
  return execFileSync('rclone', ['obscure', '-'], { input: password }).toString().trim();
}

module.exports = { SSHD, sshdUnavailable, rcloneUnavailable, freePort, startSshd, rcloneObscure };
