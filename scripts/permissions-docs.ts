// Writes docs/permissions.md from src/policy/actions.ts and src/policy/readable.ts (`npm run permissions:docs`).
import { writeFileSync } from 'node:fs';
import { renderPermissionsDoc } from './lib/permissions-docs.ts';

writeFileSync(new URL('../docs/permissions.md', import.meta.url), renderPermissionsDoc());
console.log('wrote docs/permissions.md');
