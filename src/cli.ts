// vaultgate's operator command line: `npm run vaultgate -- <command>`.
//
//   admin create --email <email> --name <name> --org <organization name>
//       Creates a system administrator and their first organization. The password is read from standard
//       input (one line) or, on a terminal, prompted for without echo. Never from argv: argv is visible to
//       every user of the machine and kept in shell history.
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import { ConfigError, loadConfig } from './config.ts';
import { createDb } from './db/client.ts';
import { migrateDatabase } from './db/migrate.ts';
import { systemClock } from './lib/clock.ts';
import { createLogger } from './lib/logger.ts';
import { ValidationError } from './lib/errors.ts';
import { createAdministrator } from './modules/auth/auth.service.ts';
import { Keyring } from './modules/keys/keyring.ts';
import { loadMasterKey } from './lib/crypto/envelope.ts';

const USAGE = `usage:
  npm run vaultgate -- admin create --email <email> --name <name> --org <organization name>
      (password from standard input, or prompted on a terminal)`;

async function readPassword(): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const rl = createInterface({ input: stdin });
    for await (const line of rl) {
      rl.close();
      return line;
    }
    return '';
  }
  process.stderr.write('Password (not shown): ');
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
  const password = await readPassword();
  await migrateDatabase(config.databaseUrl);
  const db = createDb(config.databaseUrl);
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  try {
    const { user, organization } = await createAdministrator(
      { config, db, clock: systemClock, logger, keyring: new Keyring(loadMasterKey({ envValue: config.masterKey, keyFilePath: config.masterKeyFile, create: config.createMasterKeyFile })) },
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

async function main(): Promise<number> {
  const [group, command, ...rest] = process.argv.slice(2);
  if (group === 'admin' && command === 'create') return adminCreate(rest);
  console.error(USAGE);
  return 2;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    if (error instanceof ConfigError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error((error as Error).message);
      process.exit(2);
    }
    console.error('vaultgate: failed:', (error as Error).message);
    process.exit(1);
  },
);
