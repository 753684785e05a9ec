import { createHash } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import type { AppDeps } from '../../context.ts';
import type { TxClient } from '../../db/client.ts';
import { decryptField, encryptField, sealedKeyVersion, type FieldContext } from '../../lib/crypto/envelope.ts';

/** Plaintext held before a chunk is sealed and written: memory per session stays bounded by about this. */
export const RECORDING_CHUNK_CHARS = 64 * 1024;

/** What a recording chunk is sealed to: its organization, its session and its place (a chunk moved elsewhere fails). */
export function recordingAad(organizationId: string, sessionId: string, seq: number, keyVersion: number): FieldContext {
  return { organizationId, credentialId: `accessSession:${sessionId}`, field: 'RECORDING', version: seq, keyVersion };
}

/**
 * Writes one session as asciicast v2: a header line, then `[seconds, "o" | "i" | "r", data]` lines — output the
 * user saw, input the user sent, window resizes ("COLSxROWS"). The text is sealed in chunks with the organization's
 * data key as it grows, and a SHA-256 over the whole plaintext is kept for the `session.ended` audit entry.
 */
export class SessionRecorder {
  private buffer = '';
  private seq = 0;
  private bytes = 0;
  private readonly hash = createHash('sha256');
  private readonly started = performance.now();
  private header: string | null = null;
  private readonly decoders = { o: new StringDecoder('utf8'), i: new StringDecoder('utf8') };
  private writes: Promise<void> = Promise.resolve();
  private failed = false;
  width = 80;
  height = 24;
  /** Told of every event as it is recorded (the live watch); exactly what the recording gets, nothing else. */
  onEvent: ((t: number, code: 'o' | 'i' | 'r' | 'm', data: string) => void) | null = null;

  constructor(
    private readonly deps: AppDeps,
    private readonly organizationId: string,
    private readonly sessionId: string,
  ) {}

  /** The header is written once the first terminal size is known (a pty request, or the default for exec). */
  begin(width: number, height: number): void {
    if (this.header !== null) return;
    this.width = width;
    this.height = height;
    this.header = JSON.stringify({ version: 2, width, height, timestamp: Math.floor(this.deps.clock.now().getTime() / 1000), env: { TERM: 'xterm' } });
    this.append(`${this.header}\n`);
  }

  output(data: Buffer): void {
    this.event('o', this.decoders.o.write(data));
  }

  input(data: Buffer): void {
    this.event('i', this.decoders.i.write(data));
  }

  resize(cols: number, rows: number): void {
    this.event('r', `${cols}x${rows}`);
  }

  /** An asciicast marker: something happened that is not terminal text (a port forward opened). */
  marker(label: string): void {
    this.event('m', label);
  }

  private event(code: 'o' | 'i' | 'r' | 'm', data: string): void {
    if (data.length === 0) return;
    this.begin(this.width, this.height);
    const t = Math.round(performance.now() - this.started) / 1000;
    this.append(`${JSON.stringify([t, code, data])}\n`);
    this.onEvent?.(t, code, data);
  }

  private append(line: string): void {
    this.hash.update(line, 'utf8');
    this.bytes += Buffer.byteLength(line, 'utf8');
    this.buffer += line;
    if (this.buffer.length >= RECORDING_CHUNK_CHARS) this.flush();
  }

  private flush(): void {
    if (this.buffer.length === 0) return;
    const text = this.buffer;
    const seq = this.seq++;
    this.buffer = '';
    this.writes = this.writes.then(() => this.writeChunk(seq, text)).catch((error) => {
      this.failed = true;
      this.deps.logger.error({ event: 'session.recording_write_failed', sessionId: this.sessionId, err: { name: (error as Error).name } }, 'a recording chunk could not be written');
    });
  }

  private async writeChunk(seq: number, text: string): Promise<void> {
    await this.deps.db.$transaction(async (tx) => {
      const dataKey = await this.deps.keyring.current(tx, this.organizationId);
      const sealed = encryptField(dataKey.key, text, recordingAad(this.organizationId, this.sessionId, seq, dataKey.version));
      await tx.sessionRecordingChunk.create({ data: { sessionId: this.sessionId, seq, sealed } });
    });
  }

  /** Seals what is left and waits for every chunk; the hash and size of the whole text. */
  async finish(): Promise<{ sha256: string; bytes: number; chunks: number; complete: boolean }> {
    this.begin(this.width, this.height);
    const o = this.decoders.o.end();
    const i = this.decoders.i.end();
    if (o) this.event('o', o);
    if (i) this.event('i', i);
    this.flush();
    await this.writes;
    return { sha256: this.hash.digest('hex'), bytes: this.bytes, chunks: this.seq, complete: !this.failed };
  }
}

/** The whole asciicast text of a session, opened chunk by chunk. Throws DecryptionError on a tampered chunk. */
export async function readRecording(deps: AppDeps, tx: TxClient, organizationId: string, sessionId: string): Promise<string> {
  const chunks = await tx.sessionRecordingChunk.findMany({ where: { sessionId }, orderBy: { seq: 'asc' } });
  let text = '';
  for (const [index, chunk] of chunks.entries()) {
    // A missing chunk is as bad as a changed one: positions are part of what is authenticated.
    const keyVersion = sealedKeyVersion(chunk.sealed);
    const key = await deps.keyring.byVersion(tx, organizationId, keyVersion);
    text += decryptField(key, chunk.sealed, recordingAad(organizationId, sessionId, index, keyVersion));
  }
  return text;
}
