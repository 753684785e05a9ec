import { Writable } from 'node:stream';
import type { StartInfo } from '../app.ts';

/** Whether logs and start lines are for a person (a terminal) or for a machine (anything else). */
export function humanOutput(format: 'auto' | 'json' | 'pretty', isTTY: boolean | undefined): boolean {
  return format === 'pretty' || (format === 'auto' && isTTY === true);
}

/** What a person starting the server needs to read: where it is, and what to do first. */
export function startLines(info: StartInfo): string[] {
  const lines = [`vaultgate is running: ${info.url}`];
  if (info.graphiqlUrl) lines.push(`  GraphiQL (open in a browser): ${info.graphiqlUrl}`);
  if (info.masterKeyCreated) {
    lines.push(`  created master key at ${info.masterKeyCreated} — back it up: without it nothing stored can be decrypted`);
  }
  if (info.needsBootstrap) {
    lines.push('  no administrator yet: run `npm run vaultgate -- admin create --email you@example.com --name You --org "Your org"`');
    lines.push(`  or open GraphiQL and use the bootstrap mutation${info.bootstrapToken ? ` with the bootstrap token ${info.bootstrapToken}` : ''}`);
  }
  lines.push('  stop with Ctrl-C (in-flight requests finish first)');
  return lines;
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const SKIP = new Set(['level', 'time', 'msg', 'service', 'pid', 'hostname']);

/** One pino JSON line as `12:00:01 INFO msg key=value …`; a line that is not JSON passes through. */
export function humanLogLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 19) : '';
  const fields = Object.entries(entry)
    .filter(([k]) => !SKIP.has(k))
    .slice(0, 20)
    .map(([k, v]) => {
      if (k === 'err' && v && typeof v === 'object') return `err=${JSON.stringify((v as { message?: unknown }).message ?? '')}`;
      return `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`;
    });
  return [time, LEVELS[entry.level as number] ?? String(entry.level), entry.msg ?? '', ...fields].filter((p) => p !== '').join(' ');
}

/** A destination for pino that writes human lines to `out`. */
export function humanLogStream(out: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk, _encoding, done) {
      const text = String(chunk);
      out.write(`${text.split('\n').filter(Boolean).map(humanLogLine).join('\n')}\n`);
      done();
    },
  });
}
