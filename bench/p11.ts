// P11: the CLI importer on a large CSV (issue 17). `npm run vaultgate -- import` as an operator runs it, on a fresh
// database: a generated IT Glue CSV of ROWS rows (test data) checked as a dry run and then written in batches.
// Reported: rows/s of the whole command (both passes) and its peak resident memory (VmHWM, read from /proc while
// it runs), against the file's size: bounded memory means the peak does not grow with the file.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { createBenchDb, fmt } from './lib/harness.ts';
import { smoke, type DbKind } from './lib/common.ts';

const sizeArg = process.argv.find((a) => a.startsWith('--rows='));
const ROWS = sizeArg ? Number(sizeArg.slice('--rows='.length)) : smoke ? 200 : 100_000;

function peakKiB(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function run(args: string[], env: Record<string, string>, stdin = ''): Promise<{ code: number; stdout: string; stderr: string; peakKiB: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    const timer = setInterval(() => (peak = Math.max(peak, peakKiB(child.pid!))), 100);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', () => clearInterval(timer));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, peakKiB: peak, ms: performance.now() - started }));
    child.stdin.end(stdin);
  });
}

async function writeCsv(file: string, rows: number) {
  const out = createWriteStream(file);
  out.write('id,organization,name,username,password,url,notes,password_category,password_folder,otp_secret\n');
  for (let i = 0; i < rows; i++) {
    const line = `${i},Acme,Host ${i},admin${i % 50},bench-${randomBytes(9).toString('base64url')},https://host${i}.example.test,"note, ""quoted"" ${i}",Administrative,Rack ${i % 40},\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

export async function p11(kind: DbKind) {
  console.log(`\nP11 CLI import of a ${ROWS}-row IT Glue CSV (dry-run pass + write pass) — ${kind}`);
  const db = await createBenchDb(kind);
  const dir = mkdtempSync(join(tmpdir(), 'vaultgate-bench-import-'));
  const env = { DATABASE_URL: db.url, VAULTGATE_MASTER_KEY: randomBytes(32).toString('base64'), NODE_ENV: 'production', LOG_LEVEL: 'warn' };
  try {
    const email = 'bench-import@example.test';
    const admin = await run(['admin', 'create', '--email', email, '--name', 'Bench', '--org', 'Bench import'], env, 'bench import password 42\n');
    if (admin.code !== 0) throw new Error(`admin create failed: ${admin.stderr}`);
    const file = join(dir, 'export.csv');
    await writeCsv(file, ROWS);
    const r = await run(['import', '--format', 'itglue', '--org', 'Bench import', '--as', email, '--batch-size', '500', file], env);
    if (r.code !== 0) throw new Error(`import failed (${r.code}): ${r.stderr}\n${r.stdout}`);
    const result = { rows: ROWS, fileMiB: statSync(file).size / 1024 / 1024, seconds: r.ms / 1000, rowsPerSecond: ROWS / (r.ms / 1000), peakRssMiB: r.peakKiB / 1024 };
    console.log(`file              ${fmt(result.fileMiB, 1).padStart(8)} MiB`);
    console.log(`whole command     ${fmt(result.seconds, 1).padStart(8)} s     ${fmt(result.rowsPerSecond, 0).padStart(6)} rows/s`);
    console.log(`peak RSS          ${fmt(result.peakRssMiB, 0).padStart(8)} MiB`);
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await db.drop();
  }
}
