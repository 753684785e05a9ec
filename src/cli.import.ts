// `npm run vaultgate -- import …` (see the header of cli.ts and docs/import.md): the streaming front end of the
// importer. The same engine as importCredentials (modules/import/import.service.ts), batch by batch.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { parseArgs } from 'node:util';
import type { Role } from './generated/prisma-sqlite/enums.ts';
import { loadConfig, type Config } from './config.ts';
import type { AppDeps, Context } from './context.ts';
import { createDb, type Db } from './db/client.ts';
import { migrateDatabase } from './db/migrate.ts';
import { createLogger, type Logger } from './lib/logger.ts';
import { ValidationError } from './lib/errors.ts';
import { Policy } from './policy/policy.ts';
import { CsvError, CsvParser } from './modules/import/csv.ts';
import { CsvRows, IMPORT_FIELDS, ImportFileError, type Candidate, type ColumnMapping, type ImportField, type ImportFormat } from './modules/import/formats.ts';
import { candidatesOf } from './modules/import/import.front.ts';
import { addReport, emptyReport, importBatch, IMPORT_MAX_ROWS, type ImportReport, type ImportRules } from './modules/import/import.service.ts';

const FORMATS: Record<string, ImportFormat> = { itglue: 'ITGLUE', bitwarden: 'BITWARDEN', keepass: 'KEEPASS', '1password': 'ONEPASSWORD', onepassword: 'ONEPASSWORD', csv: 'CSV' };
/** Bitwarden and KeePass files are read whole (JSON and KDBX are not streamed); CSV files of any size stream. */
const WHOLE_FILE_MAX_BYTES = 64 * 1024 * 1024;
/** Rows a whole-file format may hold (they are in memory together). */
const WHOLE_FILE_MAX_ROWS = 200_000;

type Helpers = {
  readPassword: (label?: string) => Promise<string>;
  findOrganizations: (db: Db, ref: string) => Promise<{ id: string; name: string }[]>;
  appDeps: (config: Config, db: Db, logger: Logger) => AppDeps;
};

class ImportUsageError extends Error {}

function pairs(values: string[] | undefined, option: string): [string, string][] {
  return (values ?? []).map((v) => {
    const at = v.indexOf('=');
    if (at <= 0 || at === v.length - 1) throw new ImportUsageError(`${option} takes <a>=<b>, got ${JSON.stringify(v)}`);
    return [v.slice(0, at), v.slice(at + 1)];
  });
}

/** The acting user's policy: their memberships, as a session of theirs would have (never system-admin rights). */
async function policyFor(db: Db, email: string): Promise<{ policy: Policy; userId: string } | null> {
  const user = await db.user.findFirst({ where: { email: email.trim().toLowerCase() }, include: { memberships: { select: { organizationId: true, role: true } } } });
  if (!user || user.disabledAt) return null;
  const memberships = new Map(user.memberships.map((m) => [m.organizationId, m.role as Role]));
  return { userId: user.id, policy: new Policy({ kind: 'user', userId: user.id, sessionId: `cli-${randomUUID()}`, isSystemAdmin: false, memberships, authMethod: 'PASSWORD' }) };
}

/** Reads the file batch by batch: CSV streamed through the state machine; other formats whole. */
async function eachBatch(
  format: ImportFormat,
  file: string,
  options: { mapping: ColumnMapping | null; masterPassword: string | null; batchSize: number },
  onBatch: (candidates: Candidate[]) => Promise<void>,
): Promise<string> {
  const hash = createHash('sha256');
  if (format === 'BITWARDEN' || format === 'KEEPASS') {
    if (statSync(file).size > WHOLE_FILE_MAX_BYTES) throw new ImportFileError(`${format === 'KEEPASS' ? 'KeePass' : 'Bitwarden'} files are read whole and may be at most ${WHOLE_FILE_MAX_BYTES / 1024 / 1024} MiB`);
    const chunks: Buffer[] = [];
    for await (const chunk of createReadStream(file)) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    hash.update(bytes);
    const all = await candidatesOf(format, bytes, { masterPassword: options.masterPassword, mapping: null, maxRows: WHOLE_FILE_MAX_ROWS });
    for (let i = 0; i < all.length; i += options.batchSize) await onBatch(all.slice(i, i + options.batchSize));
    return hash.digest('hex');
  }
  let pending: Candidate[] = [];
  const rows = new CsvRows(format, options.mapping, (c) => pending.push(c));
  const parser = new CsvParser((fields) => rows.record(fields));
  const decoder = new StringDecoder('utf8');
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 64 * 1024 })) {
      hash.update(chunk as Buffer);
      parser.push(decoder.write(chunk as Buffer));
      while (pending.length >= options.batchSize) {
        const batch = pending.slice(0, options.batchSize);
        pending = pending.slice(options.batchSize);
        await onBatch(batch);
      }
    }
    parser.push(decoder.end());
    parser.end();
  } catch (error) {
    if (error instanceof CsvError) throw new ImportFileError(`line ${error.line}: ${error.message}`);
    throw error;
  }
  if (pending.length > 0) await onBatch(pending);
  return hash.digest('hex');
}

function summary(title: string, r: ImportReport): string {
  const cols: [string, number][] = [
    ['rows', r.rows],
    ['created', r.created],
    ['updated', r.updated],
    ['unchanged', r.unchanged],
    ['skipped', r.skipped],
    ['folders', r.foldersCreated],
    ['problems', r.problems.length + r.moreProblems],
  ];
  const widths = cols.map(([h, v]) => Math.max(h.length, String(v).length));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join('  ');
  return [title, line(cols.map(([h]) => h)), line(cols.map(([, v]) => String(v)))].join('\n');
}

export async function runImport(argv: string[], helpers: Helpers): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      format: { type: 'string' },
      org: { type: 'string' },
      as: { type: 'string' },
      'dry-run': { type: 'boolean' },
      'restricted-folder': { type: 'string', multiple: true },
      'category-map': { type: 'string', multiple: true },
      column: { type: 'string', multiple: true },
      'batch-size': { type: 'string' },
      password: { type: 'string' },
      'master-password': { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.password !== undefined || values['master-password'] !== undefined) {
    console.error('refused: a password on the command line would be kept in shell history and shown in the process list; set VAULTGATE_IMPORT_PASSWORD or pipe it on stdin');
    return 2;
  }
  const format = values.format ? FORMATS[values.format.toLowerCase()] : undefined;
  if (!format || !values.org || !values.as || positionals.length !== 1) {
    console.error('usage: npm run vaultgate -- import --format <itglue|bitwarden|keepass|1password|csv> --org <organization> --as <email> [--dry-run] [--restricted-folder <name>]... [--category-map <source>=<category>]... [--column <field>=<header>]... [--batch-size <n>] FILE');
    return 2;
  }
  const file = positionals[0];
  let batchSize = 500;
  let mapping: ColumnMapping | null = null;
  let rules: ImportRules;
  try {
    if (values['batch-size'] !== undefined) {
      const n = Number(values['batch-size']);
      if (!Number.isInteger(n) || n < 1 || n > IMPORT_MAX_ROWS) throw new ImportUsageError(`--batch-size must be a whole number from 1 to ${IMPORT_MAX_ROWS}`);
      batchSize = n;
    }
    if (values.column?.length) {
      if (format !== 'CSV') throw new ImportUsageError('--column applies to --format csv only');
      mapping = {};
      for (const [field, header] of pairs(values.column, '--column')) {
        if (!(IMPORT_FIELDS as readonly string[]).includes(field)) throw new ImportUsageError(`--column: unknown field ${JSON.stringify(field)} (one of ${IMPORT_FIELDS.join(', ')})`);
        mapping[field as ImportField] = header;
      }
    }
    rules = { restrictedFolders: values['restricted-folder'] ?? [], categoryMap: pairs(values['category-map'], '--category-map').map(([source, category]) => ({ source, category })) };
    statSync(file);
  } catch (error) {
    if (error instanceof ImportUsageError) {
      console.error(error.message);
      return 2;
    }
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      console.error(`vaultgate: ${file}: no such file`);
      return 1;
    }
    throw error;
  }
  const masterPassword = format === 'KEEPASS' ? (process.env.VAULTGATE_IMPORT_PASSWORD ?? (await helpers.readPassword('KeePass master password'))) : null;

  const config = loadConfig();
  await migrateDatabase(config.databaseUrl);
  const db = createDb(config.databaseUrl);
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  try {
    const orgs = await helpers.findOrganizations(db, values.org);
    if (orgs.length !== 1) {
      console.error(orgs.length === 0 ? `vaultgate: no organization has the id or name ${JSON.stringify(values.org)}` : `vaultgate: ${orgs.length} organizations are named ${JSON.stringify(values.org)}; pass one of their ids: ${orgs.map((o) => o.id).join(', ')}`);
      return 1;
    }
    const organization = orgs[0];
    const actor = await policyFor(db, values.as);
    if (!actor || !actor.policy.can('credential:import', { organizationId: organization.id })) {
      console.error(`vaultgate: ${values.as} may not import into ${JSON.stringify(organization.name)} (ADMIN or MANAGER there, and an enabled account)`);
      return 1;
    }
    const policy = actor.policy;
    const ctx: Context = {
      ...helpers.appDeps(config, db, logger),
      policy,
      request: { requestId: randomUUID(), clientAddress: null, userAgent: 'vaultgate-cli import' },
      auditTouched: new Set(),
      refusals: [],
      reauthenticate: async () => policy,
    };
    const tty = process.stderr.isTTY;
    const progress = (what: string, r: ImportReport) => {
      if (tty) process.stderr.write(`\r${what}: ${r.rows} rows (${r.created} new, ${r.updated} changed, ${r.unchanged} unchanged, ${r.skipped} skipped)   `);
    };

    // Pass 1: the whole file as a dry run. Nothing is written unless every row is good.
    const check = emptyReport(format, true, '');
    let seen = new Map<string, number>();
    const fileSha256 = await eachBatch(format, file, { mapping, masterPassword, batchSize }, async (candidates) => {
      addReport(check, await importBatch(ctx, { organizationId: organization.id, format, candidates, rules, dryRun: true, fileSha256: '', seen }), false);
      progress('checking', check);
    });
    if (tty) process.stderr.write('\n');
    check.fileSha256 = fileSha256;
    if (check.problems.length > 0 || values['dry-run']) {
      console.log(summary(`dry run of ${file} (sha256 ${fileSha256}) into ${JSON.stringify(organization.name)}:`, check));
      for (const p of check.problems) console.log(`  ${p.path.join('.')}: ${p.message}`);
      if (check.moreProblems > 0) console.log(`  … and ${check.moreProblems} more`);
      if (check.problems.length > 0) {
        console.error('nothing was written: fix the rows above (or the rules) and run the command again');
        return 1;
      }
      return 0;
    }

    // Pass 2: write, batch by batch; each batch is one transaction and one credential.import entry.
    const done = emptyReport(format, false, fileSha256);
    seen = new Map();
    let batch = 0;
    await eachBatch(format, file, { mapping, masterPassword, batchSize }, async (candidates) => {
      if (done.problems.length > 0) return;
      batch += 1;
      const r = await importBatch(ctx, { organizationId: organization.id, format, candidates, rules, dryRun: false, fileSha256, seen, batch });
      addReport(done, r, false);
      progress('importing', done);
    });
    if (tty) process.stderr.write('\n');
    console.log(summary(`imported ${file} (sha256 ${fileSha256}) into ${JSON.stringify(organization.name)} as ${values.as}, ${batch} batch(es):`, done));
    if (done.problems.length > 0) {
      // The file changed between the passes: earlier batches are in, the rest is not. Running again finishes it.
      for (const p of done.problems) console.log(`  ${p.path.join('.')}: ${p.message}`);
      console.error('the file changed while it was imported; batches before the first problem were written; run the command again');
      return 1;
    }
    return 0;
  } catch (error) {
    if (error instanceof ImportFileError) {
      console.error(`vaultgate: ${file}: ${error.message}`);
      return 1;
    }
    if (error instanceof ValidationError) {
      for (const issue of error.fieldErrors) console.error(`${issue.path.join('.')}: ${issue.message}`);
      return 1;
    }
    throw error;
  } finally {
    await db.$disconnect();
  }
}
