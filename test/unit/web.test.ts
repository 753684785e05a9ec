import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentSecurityPolicy, createWebHandler } from '../../src/web.ts';

let dir: string;
let server: Server;
let base: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vaultgate-web-'));
  mkdirSync(join(dir, 'dist', 'assets'), { recursive: true });
  writeFileSync(join(dir, 'dist', 'index.html'), '<!doctype html><title>app</title>');
  writeFileSync(join(dir, 'dist', 'assets', 'index-abc123.js'), 'console.log(1)');
  writeFileSync(join(dir, 'secret.txt'), 'outside the build');
  const web = createWebHandler(join(dir, 'dist'));
  server = createServer((req, res) => {
    if (web(req, res)) return;
    res.writeHead(418).end('fell through');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('the dashboard’s static files', () => {
  it('answers / and every client route with index.html under a strict CSP, revalidated', async () => {
    for (const path of ['/', '/signin', '/credentials', '/credentials/Q3JlZGVudGlhbDox', '/requests', '/approvals', '/feed', '/audit', '/admin', '/security']) {
      const res = await fetch(base + path);
      expect(res.status, path).toBe(200);
      expect(await res.text()).toContain('<title>app</title>');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      const csp = res.headers.get('content-security-policy')!;
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:`);
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('caches hashed assets for a year', async () => {
    const res = await fetch(`${base}/assets/index-abc123.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/javascript');
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('leaves the API, health checks and unknown paths to the server, and never leaves the build folder', async () => {
    for (const path of ['/graphql', '/healthz', '/metrics', '/package.json', '/secret.txt']) {
      expect((await fetch(base + path)).status, path).toBe(418);
    }
    for (const path of ['/assets/../../secret.txt', '/assets/%2e%2e/%2e%2e/secret.txt', '/assets/missing.js']) {
      const res = await fetch(base + path);
      expect(await res.text(), path).not.toContain('outside the build');
    }
    expect((await fetch(`${base}/credentials`, { method: 'POST' })).status).toBe(418);
  });

  it('does not echo a hostile Host header into the policy', () => {
    expect(contentSecurityPolicy("evil.test; script-src 'unsafe-inline'")).toBe(contentSecurityPolicy(undefined));
    expect(contentSecurityPolicy('vault.example:8443')).toContain('wss://vault.example:8443');
  });
});
