import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadProxyHostKey } from '../../src/modules/accessSession/sshProxy.ts';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('the SSH proxy host key file', () => {
  it('is generated once (0600, in a folder made for it) and read back unchanged', () => {
    dir = mkdtempSync(join(tmpdir(), 'vg-hostkey-'));
    const path = join(dir, 'nested', 'ssh_proxy_host_key');
    const first = loadProxyHostKey(path);
    expect(first).toContain('OPENSSH PRIVATE KEY');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(loadProxyHostKey(path)).toBe(first);
    expect(readFileSync(path, 'utf8')).toBe(first);
  });

  it('refuses a key file that group or others can read, without printing the key', () => {
    dir = mkdtempSync(join(tmpdir(), 'vg-hostkey-'));
    const path = join(dir, 'ssh_proxy_host_key');
    const key = loadProxyHostKey(path);
    chmodSync(path, 0o644);
    expect(() => loadProxyHostKey(path)).toThrow(/chmod 600/);
    try {
      loadProxyHostKey(path);
    } catch (error) {
      expect((error as Error).message).not.toContain(key.split('\n')[1]);
    }
  });
});
