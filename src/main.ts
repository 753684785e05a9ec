import { ConfigError, envFileFrom, loadConfig } from './config.ts';
import { createApp, type StartInfo } from './app.ts';
import { createLogger } from './lib/logger.ts';
import { humanLogStream, humanOutput, startLines } from './lib/startLines.ts';

/** Past the grace period plus this, a shutdown that is stuck (a database that does not answer) exits anyway. */
const SHUTDOWN_MARGIN_MS = 5000;

async function main() {
  let config;
  try {
    const envFile = envFileFrom(process.argv.slice(2));
    if (envFile) {
      try {
        process.loadEnvFile(envFile);
      } catch (error) {
        throw new ConfigError(`Cannot read the env file ${envFile}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`);
      }
    }
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const human = humanOutput(config.logFormat, process.stdout.isTTY);
  const logger = createLogger(config.logLevel, human ? humanLogStream(process.stdout) : undefined);
  const app = createApp(config, { logger });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error('shutdown did not finish in time; exiting');
      process.exit(1);
    }, config.shutdownGraceMs + SHUTDOWN_MARGIN_MS).unref();
    app.stop().then(
      () => process.exit(0),
      (error) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  let info: StartInfo;
  try {
    info = { ...(await app.start()) };
  } catch (error) {
    logger.fatal({ err: error }, 'vaultgate could not start');
    await app.stop().catch(() => {});
    process.exit(1);
  }
  if (human) {
    process.stdout.write(`\n${startLines(info).join('\n')}\n\n`);
  } else {
    if (info.masterKeyCreated) logger.warn({ masterKeyFile: info.masterKeyCreated }, 'created the master key file; back it up');
    if (info.needsBootstrap) {
      logger.warn(
        { graphiql: info.graphiqlUrl },
        'no administrator yet: run `npm run vaultgate -- admin create`, or use the bootstrap mutation',
      );
    }
  }
}

void main();
