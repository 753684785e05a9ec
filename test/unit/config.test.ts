import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

describe('loadConfig', () => {
  it('defaults to the embedded SQLite file on port 4000 with GraphiQL outside production', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 4000, databaseUrl: 'file:./data/vaultgate.db', databaseProvider: 'sqlite', graphiql: true, sessionTtlMinutes: 720 });
    expect(loadConfig({ NODE_ENV: 'production' }).graphiql).toBe(false);
    expect(loadConfig({ DATABASE_URL: 'postgresql://u@h/db' }).databaseProvider).toBe('postgresql');
  });

  it('names every bad variable in one clear error', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of ['PORT', 'DATABASE_URL', 'LOG_LEVEL']) expect(message).toContain(name);
  });
});
