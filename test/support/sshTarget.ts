// An SSH server on loopback standing in for a real asset: password authentication for one account, a shell that
// echoes what it is sent (and answers `exit`), and an exec handler. Real protocol, random port.
// `chpasswd` imitates the real command as a target would let an account run it for itself: it reads
// `user:password` lines on stdin until EOF and sets them, exit status 0; a line for another user, a malformed
// line, or `failChanges` answers on stderr with exit status 1 and changes nothing.
import { connect as netConnect, type AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import ssh2, { type Connection } from 'ssh2';

const { Server, utils } = ssh2;

export type SshTarget = {
  port: number;
  /** The host key's fingerprint as OpenSSH prints it. */
  fingerprint: string;
  /** Sign-ins that succeeded, with the password each used (so tests can see what the proxy sent). */
  logins: { username: string; password: string }[];
  /** Window sizes the shell saw (pty, then each window-change). */
  windows: { cols: number; rows: number }[];
  /** Open connections right now. */
  connections: Set<Connection>;
  /** The account's password now (chpasswd changes it). */
  password(): string;
  /** Make chpasswd refuse (exit status 1) while true. */
  failChanges: boolean;
  /**
   * Fault injection: after each password change, refuse this many password logins (as a host whose password
   * database has not caught up would), so a change the target took can fail its verification.
   */
  refuseLoginsAfterChange: number;
  /** Fault injection: chpasswd sets the password, then the connection drops before any exit status is sent. */
  dropAfterChange: boolean;
  /** The chpasswd runs that changed the password. */
  changes: { username: string }[];
  close(): Promise<void>;
};

export function hostKeyFingerprint(publicOpenSsh: string): string {
  const blob = Buffer.from(publicOpenSsh.trim().split(/\s+/)[1], 'base64');
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

export async function startSshTarget(account: { username: string; password: string; publicKey?: string }): Promise<SshTarget> {
  const allowedKey = account.publicKey ? utils.parseKey(account.publicKey) : null;
  if (allowedKey instanceof Error) throw allowedKey;
  const keys = utils.generateKeyPairSync('ed25519');
  const logins: SshTarget['logins'] = [];
  const windows: SshTarget['windows'] = [];
  const connections = new Set<Connection>();
  let password = account.password;
  const changes: SshTarget['changes'] = [];
  const state = { failChanges: false, refuseLoginsAfterChange: 0, refusing: 0, dropAfterChange: false };
  const server = new Server({ hostKeys: [keys.private] }, (client) => {
    connections.add(client);
    client.on('close', () => connections.delete(client));
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => {
      if (ctx.method === 'password' && state.refusing > 0) {
        state.refusing--;
        return ctx.reject(['password']);
      }
      if (ctx.method === 'password' && ctx.username === account.username && ctx.password === password) {
        logins.push({ username: ctx.username, password: ctx.password });
        return ctx.accept();
      }
      if (ctx.method === 'publickey' && allowedKey && ctx.username === account.username && ctx.key.algo === allowedKey.type && ctx.key.data.equals(allowedKey.getPublicSSH())) {
        // Without a signature the client only asks whether the key would do; with one, it must verify.
        if (!ctx.signature) return ctx.accept();
        if (ctx.blob && allowedKey.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true) {
          logins.push({ username: ctx.username, password: '(public key)' });
          return ctx.accept();
        }
      }
      ctx.reject(allowedKey ? ['password', 'publickey'] : ['password']);
    });
    client.on('ready', () => {
      // direct-tcpip (what the proxy bridges for ssh -L): connect to the requested host:port, loopback only.
      client.on('tcpip', (accept, reject, info) => {
        if (info.destIP !== '127.0.0.1' && info.destIP !== 'localhost') return reject();
        const socket = netConnect(info.destPort, '127.0.0.1');
        socket.once('error', () => reject());
        socket.once('connect', () => {
          const channel = accept();
          channel.on('error', () => undefined);
          socket.pipe(channel).pipe(socket);
        });
      });
      client.on('session', (accept) => {
        const session = accept();
        session.on('pty', (acceptPty, _reject, info) => {
          windows.push({ cols: info.cols, rows: info.rows });
          acceptPty?.();
        });
        session.on('window-change', (acceptWc, _reject, info) => {
          windows.push({ cols: info.cols, rows: info.rows });
          acceptWc?.();
        });
        session.on('exec', (acceptExec, _reject, info) => {
          const stream = acceptExec();
          if (info.command === 'chpasswd') {
            let input = '';
            stream.on('data', (d: Buffer) => (input += d.toString('utf8')));
            stream.on('end', () => {
              const lines = input.split('\n').filter((l) => l !== '');
              const parsed = lines.map((l) => ({ user: l.slice(0, l.indexOf(':')), pass: l.slice(l.indexOf(':') + 1) }));
              const valid = lines.length > 0 && lines.every((l) => l.indexOf(':') > 0) && parsed.every((p) => p.user === account.username && p.pass !== '');
              if (state.failChanges || !valid) {
                stream.stderr.write('chpasswd: (line 1, user ' + (parsed[0]?.user ?? '?') + ') password not changed\n');
                stream.exit(1);
              } else {
                password = parsed[parsed.length - 1].pass;
                changes.push({ username: account.username });
                state.refusing = state.refuseLoginsAfterChange;
                if (state.dropAfterChange) return void client.end();
                stream.exit(0);
              }
              stream.end();
            });
            return;
          }
          // `big`: about 200 KB of output, more than one recording chunk.
          if (info.command === 'big') for (let i = 0; i < 2000; i++) stream.write(`${String(i).padStart(6, '0')} ${'é'.repeat(45)}\n`);
          stream.write(`ran: ${info.command}\n`);
          stream.stderr.write('on stderr\n');
          stream.exit(0);
          stream.end();
        });
        session.on('shell', (acceptShell) => {
          const stream = acceptShell();
          stream.write('target$ ');
          let line = '';
          stream.on('data', (d: Buffer) => {
            for (const ch of d.toString('utf8')) {
              if (ch === '\r' || ch === '\n') {
                if (line === 'exit') {
                  stream.write('\r\nbye\r\n');
                  stream.exit(0);
                  stream.end();
                  return;
                }
                stream.write(`\r\necho: ${line}\r\ntarget$ `);
                line = '';
              } else line += ch;
            }
          });
        });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    fingerprint: hostKeyFingerprint(keys.public),
    logins,
    windows,
    connections,
    password: () => password,
    get failChanges() {
      return state.failChanges;
    },
    set failChanges(value: boolean) {
      state.failChanges = value;
    },
    get refuseLoginsAfterChange() {
      return state.refuseLoginsAfterChange;
    },
    set refuseLoginsAfterChange(value: number) {
      state.refuseLoginsAfterChange = value;
    },
    get dropAfterChange() {
      return state.dropAfterChange;
    },
    set dropAfterChange(value: boolean) {
      state.dropAfterChange = value;
    },
    changes,
    async close() {
      for (const c of connections) c.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
