// vaultgate's operator command line: `npm run vaultgate -- <command>`.
//
//   admin create --email <email> --name <name> --org <organization name>
//       Creates a system administrator and their first organization. The password is read from standard
//       input (one line) or, on a terminal, prompted for without echo. Never from argv: argv is visible to
//       every user of the machine and kept in shell history.
//
//   keys rotate-master --new-key-file <path> [--generate] [--batch-size <n>]
//       Rewraps every organization's data keys from the current master key (VAULTGATE_MASTER_KEY, or the key
//       file) to the key in <path> (--generate creates that file, mode 0600, when it does not exist). Keys are
//       read from files or the environment, never from argv. When the current key came from a key file, that
//       file then holds the new key and the old one is kept beside it as <file>.old-<master key id>.
//   keys rekey-org (--org <organization id or name> | --all) [--batch-size <n>]
//       Adds the next data-key version and re-encrypts the organization's secrets under it.
//   keys status
//       Per organization: the current data-key version, secrets per version and the master key wrapping each.
//
//   import --format <itglue|bitwarden|keepass|1password|csv> --org <organization id or name> --as <email> [--dry-run]
//          [--restricted-folder <name>]… [--category-map <source>=<category>]… [--column <field>=<header>]…
//          [--batch-size <n>] FILE
//       Imports another vault's export (docs/import.md) on the authority of the user --as names (their role in the
//       organization decides, as for importCredentials; the audit log names them). Validates the whole file first
//       (a dry run); writes only when no row has a problem, in batches of --batch-size rows (default 500), each
//       one transaction. CSV files are streamed. A KeePass master password comes from VAULTGATE_IMPORT_PASSWORD,
//       standard input or a prompt, never from argv.
//
//   The key commands are resumable: interrupted (Ctrl-C stops after the current batch) or failed, the same
//   command run again finishes the job.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import { decodeGlobalID } from '@pothos/plugin-relay';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { createDb, type Db } from './db/client.ts';
import { migrateDatabase } from './db/migrate.ts';
import { systemClock } from './lib/clock.ts';
import { createLogger } from './lib/logger.ts';
import { usePasswordHashProfile } from './lib/passwords.ts';
import { ValidationError } from './lib/errors.ts';
import { createAdministrator } from './modules/auth/auth.service.ts';
import { Keyring } from './modules/keys/keyring.ts';
import { createRateLimiter } from './lib/rateLimit.ts';
import { DependencyHealth } from './lib/health.ts';
import { EventBus } from './lib/events.ts';
import { loadMasterKey, MasterKeyError, writeKeyFile, type MasterKey } from './lib/crypto/envelope.ts';
import { KeyRotationError, keyStatus, rekeyOrganization, rotateMasterKey } from './modules/keys/rotation.ts';
import { InstallationState } from './modules/auth/installation.ts';
import { PrincipalCache } from './modules/auth/principalCache.ts';
import type { AppDeps } from './context.ts';
import { runImport } from './cli.import.ts';

const USAGE = `usage:
  npm run vaultgate -- admin create --email <email> --name <name> --org <organization name>
      (password from standard input, or prompted on a terminal)
  npm run vaultgate -- keys rotate-master --new-key-file <path> [--generate] [--batch-size <n>]
  npm run vaultgate -- keys rekey-org (--org <organization id or name> | --all) [--batch-size <n>]
  npm run vaultgate -- keys status
  npm run vaultgate -- import --format <itglue|bitwarden|keepass|1password|csv> --org <organization> --as <email> [--dry-run]
      [--restricted-folder <name>]... [--category-map <source>=<category>]... [--column <field>=<header>]... [--batch-size <n>] FILE
      (a KeePass master password from VAULTGATE_IMPORT_PASSWORD, standard input, or prompted on a terminal)`;

async function readPassword(label = 'Password'): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const rl = createInterface({ input: stdin });
    for await (const line of rl) {
      rl.close();
      return line;
    }
    return '';
  }
  process.stderr.write(`${label} (not shown): `);
  stdin.setRawMode(true);
  stdin.resume();
  let value = '';
  return new Promise((resolve, reject) => {
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off('data', onData);
          process.stderr.write('\n');
          return resolve(value);
        }
        if (ch === '\u0003') return reject(new Error('cancelled'));
        if (ch === '\u007f') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

async function adminCreate(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { email: { type: 'string' }, name: { type: 'string' }, org: { type: 'string' }, password: { type: 'string' } },
    strict: true,
  });
  if (values.password !== undefined) {
    console.error('refused: --password would leave the password in shell history and the process list; pipe it on stdin');
    return 2;
  }
  if (!values.email || !values.org) {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig();
  usePasswordHashProfile(config.passwordHashProfile);
  const password = await readPassword();
  await migrateDatabase(config.databaseUrl);
  const db = createDb(config.databaseUrl);
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  try {
    const { user, organization } = await createAdministrator(
      appDeps(config, db, logger),
      { email: values.email, name: values.name ?? values.email, password, organizationName: values.org },
      { onlyIfFirst: false },
    );
    console.log(`created system administrator ${user.email} (ADMIN of "${organization.name}")`);
    return 0;
  } catch (error) {
    if (error instanceof ValidationError) {
      for (const issue of error.fieldErrors) console.error(`${issue.path.slice(1).join('.')}: ${issue.message}`);
      return 1;
    }
    throw error;
  } finally {
    await db.$disconnect();
  }
}

/** What the services need, for one CLI command (no server: no Redis, no cache, events go nowhere). */
function appDeps(config: Config, db: Db, logger: ReturnType<typeof createLogger>): AppDeps {
  return {
    config,
    db,
    clock: systemClock,
    logger,
    keyring: new Keyring(loadMasterKey({ envValue: config.masterKey, keyFilePath: config.masterKeyFile, create: config.createMasterKeyFile })),
    events: new EventBus(),
    limits: createRateLimiter({ redisUrl: undefined, redisPrefix: config.rateLimits.redisPrefix }, systemClock),
    principals: new PrincipalCache(0),
    installation: new InstallationState(),
    health: new DependencyHealth(logger),
  };
}

// --- keys ---

/** The configured master key and where it came from; a key command never creates one. */
function currentMasterKey(config: Config): { master: MasterKey; source: 'env' | 'file' } {
  const source = config.masterKey?.trim() ? 'env' : 'file';
  return { master: loadMasterKey({ envValue: config.masterKey, keyFilePath: config.masterKeyFile, create: false }), source };
}

function describeSource(config: Config, source: 'env' | 'file'): string {
  return source === 'env' ? 'VAULTGATE_MASTER_KEY' : `key file ${config.masterKeyFile}`;
}

/** A malformed command line: reported without a stack, exit code 2 like the other usage errors. */
class UsageError extends Error {
  override name = 'UsageError';
}

function batchSizeOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9][0-9]{0,4}$/.test(value) || Number(value) > 10_000) throw new UsageError('--batch-size must be a whole number from 1 to 10000.');
  return Number(value);
}

/** Ctrl-C or SIGTERM stop a key job between batches instead of killing it mid-write. */
async function interruptible<T>(job: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const stop = () => {
    process.stderr.write('stopping after the current batch…\n');
    controller.abort();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return await job(controller.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

function isAbort(error: unknown): boolean {
  return (error as { name?: string })?.name === 'AbortError';
}

/** Puts the new key into the configured key file, keeping the old key beside it. Returns the backup's path. */
function installKeyFile(keyFile: string, from: MasterKey, to: MasterKey): string {
  const onDisk = loadMasterKey({ keyFilePath: keyFile, create: false });
  if (onDisk.id !== from.id) {
    throw new MasterKeyError(`${keyFile} no longer holds the master key ${from.id} this rotation started from; it was left as it is.`);
  }
  const backup = `${keyFile}.old-${from.id}`;
  try {
    writeKeyFile(backup, from.key, 'create');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    if (loadMasterKey({ keyFilePath: backup, create: false }).id !== from.id) {
      throw new MasterKeyError(`${backup} exists and holds another key; move it away and run the command again.`);
    }
  }
  writeKeyFile(keyFile, to.key, 'replace');
  return backup;
}

async function keysRotateMaster(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { 'new-key-file': { type: 'string' }, generate: { type: 'boolean' }, 'batch-size': { type: 'string' }, 'new-key': { type: 'string' }, key: { type: 'string' } },
    strict: true,
  });
  if (values['new-key'] !== undefined || values.key !== undefined) {
    console.error('refused: a key on the command line would be kept in shell history and shown in the process list; put it in a file (mode 0600) and pass --new-key-file');
    return 2;
  }
  const newKeyFile = values['new-key-file'];
  if (!newKeyFile) {
    console.error(USAGE);
    return 2;
  }
  const batchSize = batchSizeOption(values['batch-size']);
  const config = loadConfig();
  const { master: from, source } = currentMasterKey(config);
  if (source === 'file' && resolve(newKeyFile) === resolve(config.masterKeyFile)) {
    console.error(`refused: ${newKeyFile} is the current master key file; write the new key to another file`);
    return 2;
  }
  let to: MasterKey;
  if (!existsSync(newKeyFile)) {
    if (!values.generate) {
      console.error(`vaultgate: ${newKeyFile} does not exist; pass --generate to create a new random key there (mode 0600)`);
      return 1;
    }
    to = loadMasterKey({ keyFilePath: newKeyFile, create: true });
    console.log(`generated a new master key ${to.id} in ${newKeyFile} (mode 0600)`);
  } else {
    to = loadMasterKey({ keyFilePath: newKeyFile, create: false });
  }

  await migrateDatabase(config.databaseUrl);
  const db = createDb(config.databaseUrl);
  try {
    const result = await interruptible((signal) =>
      rotateMasterKey(db, { from, to, batchSize, signal, log: (line) => console.log(line), audit: { clock: systemClock } }),
    );
    console.log(
      `rotated the master key ${from.id} -> ${to.id}: ${result.rewrapped} data key(s) rewrapped, ${result.alreadyRotated} already on the new key, ` +
        `${result.total} in all; no secret needed re-encrypting`,
    );
    if (source === 'env') {
      console.log(
        `the current key came from VAULTGATE_MASTER_KEY: set VAULTGATE_MASTER_KEY to the content of ${newKeyFile} on every server before starting it; ` +
          'the old key no longer opens the data keys (keep it only with database backups taken before now)',
      );
    } else {
      const backup = installKeyFile(config.masterKeyFile, from, to);
      console.log(`${config.masterKeyFile} now holds the new master key; the old one is kept in ${backup} (mode 0600) for database backups taken before now`);
      console.log(`${newKeyFile} holds a copy of the new key: delete it once ${config.masterKeyFile} is backed up`);
    }
    return 0;
  } catch (error) {
    if (isAbort(error)) {
      console.error('interrupted: the rotation is incomplete and servers cannot start until it finishes; run the same command again');
      return 1;
    }
    if (error instanceof KeyRotationError || error instanceof MasterKeyError) {
      console.error(`vaultgate: ${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    await db.$disconnect();
  }
}

async function findOrganizations(db: Db, ref: string): Promise<{ id: string; name: string }[]> {
  const select = { id: true, name: true } as const;
  const byId = await db.organization.findUnique({ where: { id: ref }, select });
  if (byId) return [byId];
  try {
    const decoded = decodeGlobalID(ref);
    if (decoded.typename === 'Organization') {
      const byGlobalId = await db.organization.findUnique({ where: { id: decoded.id }, select });
      if (byGlobalId) return [byGlobalId];
    }
  } catch {
    // not a global id: try it as a name
  }
  return db.organization.findMany({ where: { name: ref }, select, orderBy: { id: 'asc' } });
}

async function keysRekeyOrg(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { org: { type: 'string' }, all: { type: 'boolean' }, 'batch-size': { type: 'string' } }, strict: true });
  if (!values.org === !values.all) {
    console.error(USAGE);
    return 2;
  }
  const batchSize = batchSizeOption(values['batch-size']);
  const config = loadConfig();
  const { master } = currentMasterKey(config);
  await migrateDatabase(config.databaseUrl);
  const db = createDb(config.databaseUrl);
  try {
    let organizations: { id: string; name: string }[];
    if (values.all) {
      organizations = await db.organization.findMany({ select: { id: true, name: true }, orderBy: [{ name: 'asc' }, { id: 'asc' }] });
    } else {
      organizations = await findOrganizations(db, values.org!);
      if (organizations.length === 0) {
        console.error(`vaultgate: no organization has the id or name ${JSON.stringify(values.org)}`);
        return 1;
      }
      if (organizations.length > 1) {
        console.error(`vaultgate: ${organizations.length} organizations are named ${JSON.stringify(values.org)}; pass one of their ids: ${organizations.map((o) => o.id).join(', ')}`);
        return 1;
      }
    }
    const keyring = new Keyring(master);
    let failed = 0;
    await interruptible(async (signal) => {
      for (const org of organizations) {
        const who = `organization ${JSON.stringify(org.name)} (${org.id})`;
        try {
          const r = await rekeyOrganization(db, keyring, org.id, { batchSize, signal, audit: { clock: systemClock } });
          const from = r.fromVersions.length > 0 ? ` from ${r.fromVersions.map((v) => `v${v}`).join(', ')}` : '';
          console.log(`${who}: data key v${r.toVersion} ${r.created ? 'created' : 'resumed'}; ${r.reencrypted} secret(s) re-encrypted${from}; ${r.remaining} left on older versions`);
          for (const u of r.undecryptable) {
            console.error(`  secret ${u.secretValueId} of credential ${u.credentialId} (data key v${u.keyVersion}) fails authentication: tampered with or moved; left as it is`);
          }
          if (r.remaining > 0) failed += 1;
        } catch (error) {
          if (isAbort(error)) throw error;
          if (!(error instanceof KeyRotationError)) throw error;
          console.error(`vaultgate: ${error.message}`);
          failed += 1;
        }
      }
    });
    if (failed > 0) console.error(`${failed} organization(s) not completely re-keyed; fix what is reported above and run the command again`);
    return failed > 0 ? 1 : 0;
  } catch (error) {
    if (isAbort(error)) {
      console.error('interrupted: every secret is still readable; run the same command again to finish the re-key');
      return 1;
    }
    throw error;
  } finally {
    await db.$disconnect();
  }
}

async function keysStatus(argv: string[]): Promise<number> {
  parseArgs({ args: argv, options: {}, strict: true });
  const config = loadConfig();
  let inUse: string | null = null;
  try {
    const { master, source } = currentMasterKey(config);
    inUse = master.id;
    console.log(`master key in use: ${master.id} (from ${describeSource(config, source)})`);
  } catch (error) {
    if (!(error instanceof MasterKeyError)) throw error;
    console.log(`master key in use: none (${error.message})`);
  }
  await migrateDatabase(config.databaseUrl);
  const db = createDb(config.databaseUrl);
  try {
    const status = await keyStatus(db);
    for (const m of status.masterKeys) {
      console.log(`  ${m.dataKeys} data key(s) wrapped by master key ${m.masterKeyId}${m.masterKeyId === inUse ? '' : '  <- not the key in use: finish keys rotate-master'}`);
    }
    for (const org of status.organizations) {
      console.log(`organization ${JSON.stringify(org.name)} (${org.organizationId}): current data key ${org.currentVersion === null ? 'none' : `v${org.currentVersion}`}`);
      for (const v of org.versions) {
        const wrapped = v.masterKeyId === null ? 'MISSING key row' : `master key ${v.masterKeyId}`;
        console.log(`  v${v.version}  ${wrapped}  ${v.secrets} secret(s)`);
      }
      if (org.secretsOnOlderVersions > 0) {
        console.log(`  ${org.secretsOnOlderVersions} secret(s) on older versions: run keys rekey-org --org ${org.organizationId} to finish`);
      }
    }
    return 0;
  } finally {
    await db.$disconnect();
  }
}

async function main(): Promise<number> {
  const [group, command, ...rest] = process.argv.slice(2);
  if (group === 'admin' && command === 'create') return adminCreate(rest);
  if (group === 'keys' && command === 'rotate-master') return keysRotateMaster(rest);
  if (group === 'keys' && command === 'rekey-org') return keysRekeyOrg(rest);
  if (group === 'keys' && command === 'status') return keysStatus(rest);
  if (group === 'import') return runImport([command, ...rest].filter((a) => a !== undefined), { readPassword, findOrganizations, appDeps });
  console.error(USAGE);
  return 2;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    if (error instanceof ConfigError || error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error((error as Error).message);
      process.exit(2);
    }
    if (error instanceof MasterKeyError || error instanceof KeyRotationError) {
      console.error(`vaultgate: ${error.message}`);
      process.exit(1);
    }
    console.error('vaultgate: failed:', (error as Error).message);
    process.exit(1);
  },
);
