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
      // GraphiQL and pages in Debian's headless Chromium (puppeteer-core; .ci/run installs chromium when missing).
      { extends: true, test: { name: 'browser', include: ['test/browser/**/*.test.ts'], env: { VAULTGATE_TEST_DB: 'sqlite' } } },
      integrationOn('sqlite', 'sqlite'),
      // The same integration suite again on PostgreSQL when a server is configured (.ci/run sets it).
      ...(process.env.TEST_DATABASE_URL ? [integrationOn('postgres', 'postgres')] : []),
    ],
  },
});
