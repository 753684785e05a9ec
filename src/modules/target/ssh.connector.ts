import ssh2, { type Client as SshClient } from 'ssh2';
import { sshFingerprint } from '../../lib/sshKey.ts';
import { fail, hasControlCharacters, OK, type TargetConfig, type TargetConnector, type TargetResult } from './connector.ts';

const { Client } = ssh2;

const READY_TIMEOUT_MS = 10_000;
const EXEC_TIMEOUT_MS = 15_000;

type SshTarget = Extract<TargetConfig, { protocol: 'SSH' }>;

/**
 * Opens an SSH connection as the account with a password, the host key checked against the pinned fingerprint
 * (a mismatch is refused before anything is sent). Resolves the ready client, or the reason there is none.
 */
function open(target: SshTarget, username: string, password: string): Promise<{ client: SshClient } | { failure: TargetResult }> {
  return new Promise((resolve) => {
    const client = new Client();
    let presented: string | null = null;
    let settled = false;
    const done = (value: { client: SshClient } | { failure: TargetResult }) => {
      if (settled) return;
      settled = true;
      if ('failure' in value) client.end();
      resolve(value);
    };
    client.once('ready', () => done({ client }));
    client.once('error', (error: Error & { level?: string }) => {
      if (presented !== null && presented !== target.hostKeyFingerprint) return done({ failure: fail('HOST_KEY_MISMATCH') });
      done({ failure: fail(error.level === 'client-authentication' ? 'AUTH_REJECTED' : 'UNREACHABLE') });
    });
    client.once('close', () => done({ failure: fail(presented !== null && presented !== target.hostKeyFingerprint ? 'HOST_KEY_MISMATCH' : 'UNREACHABLE') }));
    try {
      client.connect({
        host: target.host,
        port: target.port,
        username,
        password,
        tryKeyboard: false,
        readyTimeout: READY_TIMEOUT_MS,
        hostVerifier: (key: Buffer) => {
          presented = sshFingerprint(key);
          return presented === target.hostKeyFingerprint;
        },
      });
    } catch {
      done({ failure: fail('UNREACHABLE') });
    }
  });
}

/** Runs one command with the given stdin; resolves its exit code (null when the channel failed or timed out). */
function exec(client: SshClient, command: string, stdin: string): Promise<number | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), EXEC_TIMEOUT_MS);
    client.exec(command, (error, stream) => {
      if (error) {
        clearTimeout(timer);
        return resolve(null);
      }
      let code: number | null = null;
      stream.on('exit', (c: number | null) => (code = c));
      stream.on('close', () => {
        clearTimeout(timer);
        resolve(code);
      });
      stream.on('data', () => undefined);
      stream.stderr.on('data', () => undefined);
      stream.end(stdin);
    });
  });
}

/**
 * SSH: verify logs in with the password; change logs in with the old password and feeds `user:new` to
 * `chpasswd` on stdin (never on the command line, so it is not in the target's process list or shell history),
 * as the account itself. The target must let the account run chpasswd for its own line (docs/targets.md).
 */
export const sshConnector: TargetConnector = {
  async verify(target, account, secret) {
    if (target.protocol !== 'SSH') return fail('UNREACHABLE');
    const opened = await open(target, account.username, secret);
    if ('failure' in opened) return opened.failure;
    opened.client.end();
    return OK;
  },
  async change(target, account, oldSecret, newSecret) {
    if (target.protocol !== 'SSH') return fail('UNREACHABLE');
    if (hasControlCharacters(newSecret) || hasControlCharacters(account.username) || account.username.includes(':')) {
      return fail('UNSUPPORTED_SECRET');
    }
    const opened = await open(target, account.username, oldSecret);
    if ('failure' in opened) return opened.failure;
    try {
      const code = await exec(opened.client, 'chpasswd', `${account.username}:${newSecret}\n`);
      if (code === null) return fail('CHANGE_UNCONFIRMED');
      return code === 0 ? OK : fail('CHANGE_REJECTED', `exit status ${code}`);
    } finally {
      opened.client.end();
    }
  },
};
