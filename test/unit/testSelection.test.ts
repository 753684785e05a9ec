// The PostgreSQL project runs a selection of the integration files (vitest.config.ts). A renamed file must not drop
// out of it silently, and a file with PostgreSQL- or Redis-only cases must be in it, or those cases never run.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { POSTGRES_FILES } from '../../vitest.config.ts';

const integrationFiles = ['test/integration', 'test/adversarial'].flatMap((dir) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => `${dir}/${f}`),
);

describe('the PostgreSQL selection', () => {
  it('names only existing integration files, each once', () => {
    for (const file of POSTGRES_FILES) expect(existsSync(file), file).toBe(true);
    expect(POSTGRES_FILES.every((f) => integrationFiles.includes(f))).toBe(true);
    expect(new Set(POSTGRES_FILES).size).toBe(POSTGRES_FILES.length);
  });

  it('includes every file with cases that run only on PostgreSQL or only with Redis', () => {
    const dialectOnly = /testDbKind\(\)\s*===\s*'postgres'|VAULTGATE_TEST_DB\s*===\s*'postgres'|kind\s*===\s*'postgres'|REDIS_URL|TEST_REDIS_URL/;
    const needed = integrationFiles.filter((f) => dialectOnly.test(readFileSync(f, 'utf8')));
    expect(needed.length).toBeGreaterThan(0);
    expect(needed.filter((f) => !POSTGRES_FILES.includes(f))).toEqual([]);
  });
});
