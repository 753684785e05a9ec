// Writes .env.example and docs/configuration.md from src/config.ts (`npm run config:docs`).
import { writeFileSync } from 'node:fs';
import { renderConfigurationDoc, renderEnvExample } from './lib/config-docs.ts';

writeFileSync(new URL('../.env.example', import.meta.url), renderEnvExample());
writeFileSync(new URL('../docs/configuration.md', import.meta.url), renderConfigurationDoc());
console.log('wrote .env.example and docs/configuration.md');
