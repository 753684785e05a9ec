import type { ServerResponse } from 'node:http';
import type { Context } from '../../context.ts';
import { RateLimitedError } from '../../lib/errors.ts';
import { finishSso, SsoRefused, startSso } from './sso.service.ts';

/**
 * The browser-facing ends of single sign-on: GET /auth/oidc/start (→ the identity provider) and GET
 * /auth/oidc/callback (→ the dashboard's /signin, with a one-time code, or the reason for a refusal, in the
 * fragment). Every answer is a redirect: these are top-level navigations, never fetched by script.
 */
export const SSO_PATHS = new Set(['/auth/oidc/start', '/auth/oidc/callback']);

function redirect(res: ServerResponse, location: string) {
  res.writeHead(302, { location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
  res.end();
}

const refusal = (reason: string) => `/signin#sso_error=${encodeURIComponent(reason)}`;

export async function handleSsoRoute(ctx: Context, path: string, url: URL, method: string | undefined, res: ServerResponse): Promise<void> {
  if (method !== 'GET' && method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET', 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'method not allowed' }));
    return;
  }
  try {
    if (path === '/auth/oidc/start') {
      const target = await startSso(ctx, url.searchParams.get('next'));
      return redirect(res, target.href);
    }
    const { handoff, next } = await finishSso(ctx, url);
    return redirect(res, `/signin${next ? `?next=${encodeURIComponent(next)}` : ''}#sso=${handoff}`);
  } catch (error) {
    if (error instanceof SsoRefused) return redirect(res, refusal(error.reason));
    if (error instanceof RateLimitedError) return redirect(res, refusal('rate_limited'));
    ctx.logger.error({ event: 'auth.sso_error', err: error, requestId: ctx.request.requestId }, 'single sign-on failed');
    return redirect(res, refusal('provider_error'));
  }
}
