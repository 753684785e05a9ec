import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

/**
 * A real OpenID Connect provider (the `oidc-provider` package) on 127.0.0.1 and a random port, for tests. Its
 * login and consent step is answered by the test: `nextLogin` names the account the next interaction signs in as
 * (a person typing their password at the provider), and the interaction is finished at once with a grant.
 */
export type Account = { sub: string; email: string; email_verified?: boolean; name?: string; groups?: string[] };

export type TestProvider = {
  issuer: string;
  accounts: Map<string, Account>;
  nextLogin: { sub: string | null };
  stop(): Promise<void>;
};

export async function startOidcProvider(client: { clientId: string; clientSecret: string; redirectUri: string }): Promise<TestProvider> {
  const accounts = new Map<string, Account>();
  const nextLogin = { sub: null as string | null };
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: client.clientId,
        client_secret: client.clientSecret,
        redirect_uris: [client.redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    scopes: ['openid', 'email', 'profile', 'groups'],
    // Scope claims in the ID token itself (vaultgate reads the ID token; userinfo only when it lacks the email).
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    cookies: { keys: ['test-cookie-key-test-cookie-key'] },
    jwks: { keys: [{ ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), use: 'sig', kid: 'test' }] },
    ttl: { Interaction: 600, Grant: 600, Session: 600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx: unknown, sub: string) {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return { accountId: sub, claims: async () => ({ ...account }) };
    },
  });
  const callback = provider.callback();
  server.on('request', async (req, res) => {
    if (req.url?.startsWith('/interaction/')) {
      try {
        await provider.interactionDetails(req, res); // refuses an interaction this browser did not start
        const sub = nextLogin.sub;
        if (!sub) throw new Error('the test did not say who signs in at the provider');
        const grant = new provider.Grant({ accountId: sub, clientId: client.clientId });
        grant.addOIDCScope('openid email profile groups');
        const grantId = await grant.save();
        await provider.interactionFinished(req, res, { login: { accountId: sub }, consent: { grantId } }, { mergeWithLastSubmission: false });
      } catch (error) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(error));
      }
      return;
    }
    callback(req, res);
  });
  return {
    issuer,
    accounts,
    nextLogin,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A browser's part of the redirects, over fetch: follows Location headers (keeping each origin's cookies, as a
 * browser would for the provider's interaction cookies) until a URL outside `stopAtOrigin`'s provider hops, i.e.
 * until vaultgate redirects to its dashboard. Returns every URL visited and the last Location.
 */
export async function followRedirects(start: string, until: (url: URL) => boolean, maxHops = 15): Promise<{ visited: string[]; final: URL }> {
  const jar = new Map<string, Map<string, string>>();
  const visited: string[] = [];
  let url = new URL(start);
  for (let hop = 0; hop < maxHops; hop++) {
    visited.push(url.href);
    if (until(url)) return { visited, final: url };
    const cookies = jar.get(url.origin);
    const res = await fetch(url, { redirect: 'manual', headers: cookies ? { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {} });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      const store = jar.get(url.origin) ?? new Map<string, string>();
      store.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
      jar.set(url.origin, store);
    }
    const location = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !location) throw new Error(`expected a redirect from ${url.href}, got ${res.status}: ${(await res.text()).slice(0, 300)}`);
    url = new URL(location, url);
  }
  throw new Error(`too many redirects: ${visited.join(' → ')}`);
}
