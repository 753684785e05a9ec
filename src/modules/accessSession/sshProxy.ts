import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AddressInfo } from 'node:net';
import ssh2, { type ClientChannel, type Connection, type ServerChannel } from 'ssh2';
import type { AppDeps } from '../../context.ts';
import { sshFingerprint } from '../../lib/sshKey.ts';
import type { AccessSession } from '../../generated/prisma-sqlite/client.ts';
import { auditForSession, claimSessionToken, recordSessionEnd, sessionEndReason, targetSecret, type ClaimedSession } from './accessSession.service.ts';
import { SessionRecorder } from './recording.ts';

const { Server, Client, utils } = ssh2;

/** How often a running session asks whether it must end (request, window, user, termination). */
export const SESSION_CHECK_INTERVAL_MS = 250;

/** What the user is told, on the channel's stderr, when vaultgate ends or refuses the session. Never a library message. */
const END_MESSAGES: Record<string, string> = {
  WINDOW_ENDED: 'the access window has ended',
  REQUEST_ENDED: 'the access request is no longer available (revoked, checked in or denied)',
  USER_DISABLED: 'your account is disabled or no longer a member of the organization',
  TERMINATED: 'the session was terminated by an approver or administrator',
  HOST_KEY_MISMATCH: 'the target presented a host key that does not match the key pinned for this asset; the connection was refused',
  TARGET_UNREACHABLE: 'the target could not be reached or refused the vaulted account',
  SERVER_STOPPED: 'vaultgate is shutting down',
};

/**
 * The proxy's own host key: read from its file, or generated (ed25519) and written with mode 0600 on first start,
 * beside the master key. A key readable by group or others is refused, as the master key file is.
 */
export function loadProxyHostKey(path: string): string {
  if (existsSync(path)) {
    if ((statSync(path).mode & 0o077) !== 0) throw new Error(`The SSH proxy host key file ${path} is accessible by group or others; chmod 600 it.`);
    return readFileSync(path, 'utf8');
  }
  mkdirSync(dirname(path), { recursive: true });
  const keys = utils.generateKeyPairSync('ed25519');
  writeFileSync(path, keys.private, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return keys.private;
}

export type SshProxy = { port: number; close(): Promise<void> };

/**
 * The recording SSH proxy (docs/sessions.md). A user connects with a startSession token as the user name; the
 * proxy checks the token (once), opens the target with the vaulted account after verifying its pinned host key,
 * and bridges shell and exec channels both ways, recording them as asciicast v2. The secret never leaves here.
 */
export async function startSshProxy(deps: AppDeps, options: { host: string; port: number; hostKey: string }): Promise<SshProxy> {
  const live = new Set<LiveSession>();
  const server = new Server({ hostKeys: [options.hostKey], ident: 'vaultgate' }, (client, info) => {
    let claim: Promise<LiveSession | null> | null = null;
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => {
      const token = ctx.username;
      // `none` with the token as user name, or a password equal to the token (for clients that insist on one).
      const presented = ctx.method === 'none' || (ctx.method === 'password' && ctx.password === token);
      if (!presented) return ctx.reject(['none', 'password']);
      claim ??= claimSessionToken(deps, token, info.ip ?? null).then(async (result) => {
        if (!result.ok) {
          if (result.session) {
            await auditForSession(deps, result.session.userId, { organizationId: result.session.organizationId, action: 'session.refused', targetType: 'AccessSession', targetId: result.session.id, data: { reason: result.reason, clientAddress: info.ip ?? null } });
          } else deps.logger.info({ event: 'session.refused', reason: result.reason }, 'SSH proxy refused an unknown token');
          return null;
        }
        const session = new LiveSession(deps, client, result.claimed, () => live.delete(session));
        live.add(session);
        return session;
      });
      claim
        .then((session) => (session ? ctx.accept() : ctx.reject([])))
        .catch((error) => {
          deps.logger.error({ event: 'session.claim_failed', err: { name: (error as Error).name } }, 'SSH proxy could not check a token');
          ctx.reject([]);
        });
    });
    client.on('ready', () => {
      void claim?.then((session) => session?.attach());
    });
    // Gone before (or without) authentication finishing: a claimed session still ends, recorded and audited.
    client.on('close', () => {
      void claim?.then((session) => session?.end('CLIENT_CLOSED'));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  deps.logger.info({ port }, 'SSH proxy listening');
  return {
    port,
    async close() {
      await Promise.all([...live].map((s) => s.end('SERVER_STOPPED')));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

class LiveSession {
  private readonly session: AccessSession;
  private readonly recorder: SessionRecorder;
  private target: InstanceType<typeof Client> | null = null;
  private targetReady: Promise<string | null> | null = null;
  private readonly channels = new Set<ServerChannel>();
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private checking = false;
  private ended: Promise<void> | null = null;
  private started = false;

  constructor(
    private readonly deps: AppDeps,
    private readonly client: Connection,
    private readonly claimed: ClaimedSession,
    private readonly forget: () => void,
  ) {
    this.session = claimed.session;
    this.recorder = new SessionRecorder(deps, this.session.organizationId, this.session.id);
    this.recorder.onEvent = (t, code, data) => {
      this.activity.push([t, code, data]);
      this.activityTimer ??= setImmediate(() => this.publishActivity());
    };
  }

  private activity: [number, 'o' | 'i' | 'r' | 'm', string][] = [];
  private activityTimer: NodeJS.Immediate | null = null;

  /** Live watchers (sessionActivity) get what was recorded since the last turn of the event loop, in one message. */
  private publishActivity(end?: string): void {
    if (this.activityTimer) clearImmediate(this.activityTimer);
    this.activityTimer = null;
    if (this.activity.length === 0 && end === undefined) return;
    const events = this.activity;
    this.activity = [];
    this.deps.events.publish({ topic: 'session.activity', sessionId: this.session.id, organizationId: this.session.organizationId, events, ...(end === undefined ? {} : { end }) });
  }

  /** After authentication: opens the target, watches for reasons to end, and serves the user's channels. */
  attach(): void {
    this.targetReady = this.openTarget();
    this.timer = setInterval(() => void this.check(), SESSION_CHECK_INTERVAL_MS);
    this.unsubscribe = this.deps.events.subscribe('accessRequest.changed', (e) => {
      if (e.requestId === this.session.requestId) void this.check();
    });
    this.client.on('close', () => void this.end('CLIENT_CLOSED'));
    this.client.on('session', (accept) => this.serve(accept()));
    this.client.on('tcpip', (accept, reject, info) => void this.forward(accept, reject, info));
  }

  /**
   * A direct-tcpip channel (ssh -L): bridged to the target, which opens the connection on its side, when the
   * request's policy allows it. The recording gets a marker that it opened and the audit log an entry; the
   * forwarded bytes are neither recorded nor looked at.
   */
  private async forward(accept: () => ServerChannel, reject: () => void, info: ssh2.TcpipRequestInfo): Promise<void> {
    const destination = `${info.destIP}:${info.destPort}`;
    const allowed = this.claimed.allowPortForwarding;
    await auditForSession(this.deps, this.session.userId, {
      organizationId: this.session.organizationId,
      action: 'session.forward',
      targetType: 'AccessSession',
      targetId: this.session.id,
      data: { requestId: this.session.requestId, destination, allowed },
    }).catch(() => undefined);
    if (!allowed || this.ended) return reject();
    const problem = await this.targetReady;
    if (problem || !this.target || this.ended) return reject();
    this.target.forwardOut(info.srcIP, info.srcPort, info.destIP, info.destPort, (err, remote) => {
      if (err || this.ended) return reject();
      this.recorder.marker(`forward ${destination}`);
      const local = accept();
      local.on('error', () => undefined);
      remote.on('error', () => undefined);
      local.pipe(remote).pipe(local);
    });
  }

  private async check(): Promise<void> {
    if (this.checking || this.ended) return;
    this.checking = true;
    try {
      const reason = await sessionEndReason(this.deps, this.session);
      if (reason) await this.end(reason);
    } catch (error) {
      this.deps.logger.warn({ event: 'session.check_failed', sessionId: this.session.id, err: { name: (error as Error).name } }, 'could not check a session');
    } finally {
      this.checking = false;
    }
  }

  /** Resolves null when the target is ready, or the reason it is not. */
  private async openTarget(): Promise<string | null> {
    let secret: Awaited<ReturnType<typeof targetSecret>>;
    try {
      secret = await targetSecret(this.deps, this.session);
    } catch {
      return 'TARGET_UNREACHABLE';
    }
    const pinned = this.claimed.asset.hostKeyFingerprint;
    let presented: string | null = null;
    const target = new Client();
    this.target = target;
    const outcome = await new Promise<string | null>((resolve) => {
      target.once('ready', () => resolve(null));
      target.once('error', () => resolve(presented !== null && presented !== pinned ? 'HOST_KEY_MISMATCH' : 'TARGET_UNREACHABLE'));
      target.once('close', () => resolve(presented !== null && presented !== pinned ? 'HOST_KEY_MISMATCH' : 'TARGET_UNREACHABLE'));
      try {
        target.connect({
          host: this.claimed.asset.host,
          port: this.claimed.asset.port,
          username: this.claimed.username,
          password: secret.password,
          privateKey: secret.privateKey,
          passphrase: secret.passphrase,
          readyTimeout: 10_000,
          hostVerifier: (key: Buffer) => {
            presented = sshFingerprint(key);
            return presented === pinned;
          },
        });
      } catch {
        resolve('TARGET_UNREACHABLE');
      }
    });
    if (outcome === 'HOST_KEY_MISMATCH') {
      await auditForSession(this.deps, this.session.userId, {
        organizationId: this.session.organizationId,
        action: 'session.host_key_mismatch',
        targetType: 'AccessSession',
        targetId: this.session.id,
        data: { assetId: this.claimed.asset.id, pinned, presented },
      });
    } else if (outcome === null) {
      this.started = true;
      target.on('close', () => void this.end('TARGET_CLOSED'));
      await auditForSession(this.deps, this.session.userId, {
        organizationId: this.session.organizationId,
        action: 'session.started',
        targetType: 'AccessSession',
        targetId: this.session.id,
        data: { requestId: this.session.requestId, assetId: this.claimed.asset.id, credentialId: this.session.credentialId, host: this.claimed.asset.host, port: this.claimed.asset.port, clientAddress: this.session.clientAddress },
      });
    }
    return outcome;
  }

  private serve(session: ssh2.Session): void {
    let pty: { term: string; cols: number; rows: number; width: number; height: number } | null = null;
    let targetStream: ClientChannel | null = null;
    session.on('pty', (accept, _reject, info) => {
      pty = { term: info.term || 'xterm', cols: info.cols, rows: info.rows, width: info.width, height: info.height };
      accept?.();
    });
    session.on('window-change', (accept, _reject, info) => {
      if (pty) Object.assign(pty, { cols: info.cols, rows: info.rows });
      this.recorder.resize(info.cols, info.rows);
      targetStream?.setWindow(info.rows, info.cols, info.height, info.width);
      accept?.();
    });
    session.on('env', (accept) => accept?.());
    const bridge = async (stream: ServerChannel, open: (cb: (err: Error | undefined, s: ClientChannel) => void) => void) => {
      this.channels.add(stream);
      stream.on('close', () => this.channels.delete(stream));
      this.recorder.begin(pty?.cols ?? 80, pty?.rows ?? 24);
      const problem = await this.targetReady;
      if (problem || !this.target) {
        await this.end(problem ?? 'TARGET_UNREACHABLE');
        return;
      }
      // The user (or the target) may have gone while the target was getting ready: opening a channel on a closed
      // connection throws, and a throw here would be an unhandled rejection in the server process.
      if (this.ended) return;
      try {
        this.openChannel(stream, open, (t) => (targetStream = t));
      } catch {
        await this.end('TARGET_CLOSED');
      }
    };
    session.on('shell', (accept) => {
      const stream = accept();
      void bridge(stream, (cb) => this.target!.shell(pty ? { term: pty.term, cols: pty.cols, rows: pty.rows, width: pty.width, height: pty.height } : false, cb)).catch(() => this.end('TARGET_CLOSED'));
    });
    session.on('exec', (accept, _reject, info) => {
      const stream = accept();
      void bridge(stream, (cb) => this.target!.exec(info.command, pty ? { pty: { term: pty.term, cols: pty.cols, rows: pty.rows, width: pty.width, height: pty.height } } : {}, cb)).catch(() => this.end('TARGET_CLOSED'));
    });
  }

  /** Opens the target's side of a channel and bridges the two, recording both directions. */
  private openChannel(stream: ServerChannel, open: (cb: (err: Error | undefined, s: ClientChannel) => void) => void, opened: (t: ClientChannel) => void): void {
    open((err, t) => {
      if (err) {
        void this.end('TARGET_UNREACHABLE');
        return;
      }
      opened(t);
      t.on('data', (d: Buffer) => {
        this.recorder.output(d);
        stream.write(d);
      });
      t.stderr.on('data', (d: Buffer) => {
        this.recorder.output(d);
        stream.stderr.write(d);
      });
      stream.on('data', (d: Buffer) => {
        this.recorder.input(d);
        t.write(d);
      });
      stream.on('end', () => t.end());
      t.on('exit', (code: number | null) => {
        if (typeof code === 'number') stream.exit(code);
      });
      t.on('close', () => {
        stream.end();
        stream.close();
      });
    });
  }

  /** Ends the session once: tells the user why, closes both sides, seals the recording and audits the end. */
  end(reason: string): Promise<void> {
    this.ended ??= (async () => {
      clearInterval(this.timer);
      this.unsubscribe?.();
      const message = END_MESSAGES[reason];
      for (const channel of this.channels) {
        if (message) {
          const line = Buffer.from(`\r\nvaultgate: ${message}.\r\n`, 'utf8');
          this.recorder.output(line);
          channel.stderr.write(line);
        }
        channel.exit(reason === 'TARGET_CLOSED' || reason === 'CLIENT_CLOSED' ? 0 : 1);
        channel.end();
      }
      // Give the messages a moment to leave before the connection goes.
      await new Promise((resolve) => setTimeout(resolve, 50));
      this.target?.end();
      this.client.end();
      const recording = await this.recorder.finish();
      try {
        await recordSessionEnd(this.deps, this.session, { reason, recording: { ...recording, width: this.recorder.width, height: this.recorder.height }, startedAudited: true });
      } catch (error) {
        this.deps.logger.error({ event: 'session.end_not_recorded', sessionId: this.session.id, err: { name: (error as Error).name } }, 'the end of a session could not be recorded');
      }
      this.publishActivity(reason);
      this.forget();
      void this.started;
    })();
    return this.ended;
  }
}
