import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

// `npm install` on the Node version package.json declares prints no EBADENGINE warning: every package in the lock
// file accepts the lowest version we declare (docs/development.md says how the few that would not are pinned).
const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as { packages: Record<string, { engines?: { node?: string } | string[] }> };

describe('declared engines', () => {
  it('every locked package accepts the lowest Node version package.json declares', () => {
    const lowest = semver.minVersion(pkg.engines.node);
    expect(lowest).not.toBeNull();
    const refusing = Object.entries(lock.packages)
      .map(([path, p]) => [path, Array.isArray(p.engines) ? undefined : p.engines?.node] as const)
      .filter(([, range]) => range && !semver.satisfies(lowest!, range))
      .map(([path, range]) => `${path} wants node ${range}`);
    expect(refusing).toEqual([]);
  });

  it('the running Node is one we declare', () => {
    expect(semver.satisfies(process.versions.node, pkg.engines.node)).toBe(true);
  });
});
