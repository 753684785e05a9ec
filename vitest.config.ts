import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);
// Pothos and Yoga load graphql's CommonJS build; without this alias vitest may load the ESM build too, and
// graphql refuses objects from "another module or realm".
const graphql = require.resolve('graphql');

const integrationOn = (name: string, db: 'sqlite' | 'postgres') => ({
  extends: true as const,
  test: { name, include: ['test/integration/**/*.test.ts', 'test/adversarial/**/*.test.ts'], env: { VAULTGATE_TEST_DB: db } },
});

export default defineConfig({
  resolve: { alias: { graphql } },
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      integrationOn('sqlite', 'sqlite'),
      { extends: true, test: { name: 'browser', include: ['test/browser/**/*.test.ts'], globalSetup: ['test/browser/global-setup.ts'] } },
      // The same integration suite again on PostgreSQL when a server is configured (.ci/run sets it).
      ...(process.env.TEST_DATABASE_URL ? [integrationOn('postgres', 'postgres')] : []),
    ],
  },
});
