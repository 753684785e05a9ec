import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Serves the reference dashboard (web/, built to web/dist by `npm run build:web`) at `/`. Only files of the build
 * and the app's own client routes are answered here; /graphql (API and GraphiQL), /healthz and anything else fall
 * through to the caller. Every answer carries a strict Content-Security-Policy: scripts, styles and connections
 * from this origin only (plus its WebSocket), nothing inline, no frames.
 */
export const WEB_DIST = fileURLToPath(new URL('../web/dist/', import.meta.url));

/** The dashboard's client routes (src/App.tsx); each is answered with index.html. */
const CLIENT_ROUTES = /^\/(?:signin|credentials|requests|approvals|feed|audit|sessions|admin|security)(?:\/[^/]*)*\/?$/;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/** A Host header that can be echoed into the policy (names, IPv4, bracketed IPv6, a port). */
const SAFE_HOST = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

export function contentSecurityPolicy(host: string | undefined): string {
  // 'self' covers ws(s): of the same origin in CSP Level 3 browsers; the explicit sources are for older ones.
  const ws = host && SAFE_HOST.test(host) ? ` ws://${host} wss://${host}` : '';
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    `connect-src 'self'${ws}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function securityHeaders(req: IncomingMessage): Record<string, string> {
  return {
    'content-security-policy': contentSecurityPolicy(req.headers.host),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
  };
}

export type WebHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * Returns a handler answering the dashboard's requests (true when it answered). With no build at `dir`, `/` says
 * how to build it instead of a bare 404.
 */
export function createWebHandler(dir = WEB_DIST): WebHandler {
  const root = normalize(dir.endsWith(sep) ? dir : dir + sep);
  const indexPath = join(root, 'index.html');
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    let path: string;
    try {
      path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    } catch {
      return false;
    }
    if (path.includes('\0')) return false;
    const isAsset = path.startsWith('/assets/');
    const isIndex = path === '/' || path === '/index.html' || CLIENT_ROUTES.test(path);
    if (!isAsset && !isIndex && path !== '/favicon.svg') return false;
    if (!existsSync(indexPath)) {
      if (!isIndex) return false;
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...securityHeaders(req) });
      res.end('The dashboard is not built. Run `npm run build:web` (npm install does it), then reload.\n');
      return true;
    }
    const file = isIndex ? indexPath : normalize(join(root, path));
    if (!file.startsWith(root)) return false;
    let size: number;
    try {
      const st = statSync(file);
      if (!st.isFile()) return false;
      size = st.size;
    } catch {
      if (!isAsset) return false;
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...securityHeaders(req) });
      res.end('Not found\n');
      return true;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': String(size),
      // Built assets carry a content hash in their names: cache them for a year. index.html names the current
      // ones, so it is always revalidated.
      'cache-control': isAsset ? 'public, max-age=31536000, immutable' : 'no-cache',
      ...securityHeaders(req),
    });
    if (req.method === 'HEAD') {
      res.end();
      return true;
    }
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
    return true;
  };
}
