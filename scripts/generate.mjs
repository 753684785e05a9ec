// Generates the Prisma clients (SQLite and PostgreSQL) and Pothos's Prisma types without network access.
// Runs on `npm install` (postinstall) and by `npm run generate`.
//
// Prisma's CLI insists on a schema-engine binary even for `generate`, which never uses it; the binary cannot
// be downloaded here, so the variable points at /bin/false: generation works, and a CLI migrate started by
// mistake fails loudly instead of silently doing nothing. Migrations go through scripts/migrate.ts instead.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'prisma', 'schema.prisma');
if (!existsSync(source)) process.exit(0);

export function derivePostgresSchema(text) {
  const out = text
    .replace(/provider\s*=\s*"sqlite"/, 'provider = "postgresql"')
    .replace('output   = "../src/generated/prisma-sqlite"', 'output   = "../../src/generated/prisma-postgres"\n  previewFeatures = ["relationJoins"]')
    // Pothos's types are generated once, from the SQLite schema: both clients have identical model types.
    .replace(/generator pothos \{[^}]*\}\n/, '');
  if (out.includes('prisma-sqlite') || !out.includes('prisma-postgres')) {
    throw new Error('scripts/generate.mjs: could not derive the PostgreSQL schema; check the generator block');
  }
  return `// Derived from prisma/schema.prisma by scripts/generate.mjs. Do not edit.\n${out}`;
}

const pgDir = join(root, 'prisma', '.generated');
mkdirSync(pgDir, { recursive: true });
const pgSchema = join(pgDir, 'postgres.prisma');
writeFileSync(pgSchema, derivePostgresSchema(readFileSync(source, 'utf8')));

const env = { ...process.env, PATH: `${join(root, 'node_modules', '.bin')}:${process.env.PATH}`, PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? '/bin/false', PRISMA_HIDE_UPDATE_MESSAGE: '1' };
const prisma = join(root, 'node_modules', '.bin', 'prisma');
for (const schema of [source, pgSchema]) {
  execFileSync(prisma, ['generate', '--schema', schema], { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] });
}
console.log('vaultgate: generated Prisma clients (sqlite, postgresql) and Pothos types');
