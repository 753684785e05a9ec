import { describe, expect, it } from 'vitest';
import { humanLogLine, humanOutput, startLines } from '../../src/lib/startLines.ts';

describe('start lines', () => {
  it('name the URL, GraphiQL, a master key just created and the first step while there is no administrator', () => {
    const lines = startLines({
      port: 4000,
      url: 'http://localhost:4000/graphql',
      graphiqlUrl: 'http://localhost:4000/graphql',
      masterKeyCreated: '/srv/data/master.key',
      needsBootstrap: true,
    }).join('\n');
    expect(lines).toContain('vaultgate is running: http://localhost:4000/graphql');
    expect(lines).toContain('GraphiQL (open in a browser): http://localhost:4000/graphql');
    expect(lines).toContain('created master key at /srv/data/master.key — back it up');
    expect(lines).toContain('no administrator yet: run `npm run vaultgate -- admin create');
    expect(lines).toContain('use the bootstrap mutation');
  });

  it('say nothing about keys or bootstrap on an installation that has both, and show a bootstrap token when given', () => {
    const settled = startLines({ port: 1, url: 'http://h:1/graphql', needsBootstrap: false }).join('\n');
    expect(settled).not.toContain('master key');
    expect(settled).not.toContain('administrator');
    expect(settled).not.toContain('GraphiQL');
    const withToken = startLines({ port: 1, url: 'http://h:1/graphql', needsBootstrap: true, bootstrapToken: 'tok-123' }).join('\n');
    expect(withToken).toContain('tok-123');
  });

  it.each([
    ['auto', true, true],
    ['auto', false, false],
    ['auto', undefined, false],
    ['json', true, false],
    ['pretty', false, true],
  ] as const)('LOG_FORMAT=%s on a TTY=%s → human=%s', (format, tty, human) => {
    expect(humanOutput(format, tty)).toBe(human);
  });

  it('formats a pino line for a person and passes anything else through', () => {
    const line = humanLogLine(JSON.stringify({ level: 40, time: Date.UTC(2026, 0, 2, 3, 4, 5), service: 'vaultgate', msg: 'request', status: 200, path: '/graphql' }));
    expect(line).toBe('03:04:05 WARN request status=200 path=/graphql');
    expect(humanLogLine('not json')).toBe('not json');
  });
});
