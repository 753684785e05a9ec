// Prints the Pothos schema, sorted, to schema.graphql (the reviewed artifact the SDK is generated from).
// `--check` exits 1 when the committed file is stale instead of writing it.
import { readFileSync, writeFileSync } from 'node:fs';
import { printSchema } from 'graphql';
import { getSortedSchema } from '../src/graphql/schema.ts';

const path = new URL('../schema.graphql', import.meta.url);
const printed = `${printSchema(getSortedSchema())}\n`;
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(path, 'utf8');
  } catch {}
  if (current !== printed) {
    console.error('schema.graphql is stale: run `npm run schema:print`');
    process.exit(1);
  }
  console.log('schema.graphql is current');
} else {
  writeFileSync(path, printed);
  console.log('wrote schema.graphql');
}
