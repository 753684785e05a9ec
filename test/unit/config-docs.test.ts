import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configVariables, envFileFrom } from '../../src/config.ts';
import { renderConfigurationDoc, renderEnvExample } from '../../scripts/lib/config-docs.ts';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('.env.example and docs/configuration.md', () => {
  it('are what src/config.ts generates (run `npm run config:docs` after changing a variable)', () => {
    expect(read('.env.example')).toBe(renderEnvExample());
    expect(read('docs/configuration.md')).toBe(renderConfigurationDoc());
  });

  it('list every variable with a meaning', () => {
    const example = read('.env.example');
    for (const v of configVariables()) {
      expect(v.doc.length).toBeGreaterThan(5);
      expect(example).toContain(`# ${v.name}=`);
    }
  });
});

describe('envFileFrom', () => {
  it.each([
    [['--env-file=.env'], {}, '.env'],
    [['--env-file', 'conf/prod.env'], {}, 'conf/prod.env'],
    [[], { ENV_FILE: 'from-env.env' }, 'from-env.env'],
    [['--env-file=arg.env'], { ENV_FILE: 'from-env.env' }, 'arg.env'],
    [[], {}, undefined],
    [['--env-file='], {}, undefined],
    [[], { ENV_FILE: '' }, undefined],
  ])('%j with %j → %s', (argv, env, expected) => {
    expect(envFileFrom(argv, env)).toBe(expected);
  });
});
