import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

describe('loadConfig', () => {
  it('defaults to the embedded SQLite file on port 4000 with GraphiQL outside production', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 4000, databaseUrl: 'file:./data/vaultgate.db', databaseProvider: 'sqlite', graphiql: true, sessionTtlMinutes: 720 });
    expect(loadConfig({ NODE_ENV: 'production' }).graphiql).toBe(false);
    expect(loadConfig({ DATABASE_URL: 'postgresql://u@h/db' }).databaseProvider).toBe('postgresql');
  });

  it('has rate limits on by default, in seconds and per minute as documented', () => {
    expect(loadConfig({}).rateLimits).toEqual({
      signInPerAccount: 5,
      signInPerAccountTotal: 20,
      signInPerAddress: 30,
      signInWindowMs: 900_000,
      lockoutMs: 60_000,
      lockoutMaxMs: 3_600_000,
      revealPerMinute: 30,
      authFailuresPerAddress: 20,
      bootstrapPerAddress: 10,
      redisPrefix: 'vaultgate:ratelimit:',
    });
    expect(() => loadConfig({ RATE_LIMIT_REVEAL_PER_MINUTE: '-1' })).toThrow(/RATE_LIMIT_REVEAL_PER_MINUTE/);
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

  it('hashes passwords at full cost unless NODE_ENV=test asks for the test profile; production cannot', () => {
    expect(loadConfig({}).passwordHashProfile).toBe('standard');
    expect(loadConfig({ NODE_ENV: 'test', PASSWORD_HASH_PROFILE: 'test' }).passwordHashProfile).toBe('test');
    for (const NODE_ENV of ['production', 'development', undefined]) {
      expect(() => loadConfig({ NODE_ENV, PASSWORD_HASH_PROFILE: 'test' })).toThrow(ConfigError);
      expect(() => loadConfig({ NODE_ENV, PASSWORD_HASH_PROFILE: 'test' })).toThrow(/PASSWORD_HASH_PROFILE: .*only with NODE_ENV=test/);
    }
    expect(() => loadConfig({ PASSWORD_HASH_PROFILE: 'cheap' })).toThrow(/PASSWORD_HASH_PROFILE/);
  });
});
