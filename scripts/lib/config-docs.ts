import { configVariables } from '../../src/config.ts';

const HEADER = 'Generated from src/config.ts by `npm run config:docs`; a unit test fails when it is stale.';

/** Markdown inline code and links read as plain text in a shell comment. */
const plain = (text: string) => text.replaceAll('`', '');

/** `.env.example`: every variable, commented out at its default, so a copy changes only what it uncomments. */
export function renderEnvExample(): string {
  const lines = [`# vaultgate configuration. ${HEADER}`, '# Copy to .env, uncomment what you change, and start with `npm start -- --env-file=.env`.', ''];
  for (const v of configVariables()) {
    lines.push(`# ${plain(v.doc)}`, `# ${v.name}=${v.default ?? ''}`, '');
  }
  return lines.join('\n');
}

/** docs/configuration.md: the same variables as a table. */
export function renderConfigurationDoc(): string {
  const cell = (text: string) => text.replaceAll('|', '\\|');
  const rows = configVariables().map((v) => `| \`${v.name}\` | ${v.default === undefined ? '—' : `\`${cell(v.default)}\``} | ${cell(v.doc)} |`);
  return [
    '# Configuration',
    '',
    `<!-- ${HEADER} -->`,
    '',
    'vaultgate reads its settings from environment variables, once, at start (src/config.ts validates them and',
    'refuses to start on an invalid one, naming it). They can also come from an env file:',
    '',
    '- `npm start -- --env-file=.env` (or `node dist/main.js --env-file=.env`), or',
    '- `ENV_FILE=.env npm start`.',
    '',
    "The file uses Node's dotenv format (`NAME=value` lines, `#` comments). Variables already set in the",
    'environment win over the file, as with `node --env-file`. A missing file is an error, not a silent default.',
    '`.env.example` lists every variable at its default.',
    '',
    '| Variable | Default | Meaning |',
    '| --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
