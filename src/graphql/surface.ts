import type { IncomingMessage } from 'node:http';
import { GraphQLError } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import type { Config } from '../config.ts';
import { armorPlugins, disableIntrospectionPlugin, hideSuggestionsPlugin } from './limits.ts';
import { variableCostPlugin } from './cost.ts';
import { noInputEchoPlugin } from './inputEcho.ts';
import {
  automaticPersistedQueriesPlugin,
  persistedOperationsPlugin,
  type PersistedOperations,
  type PersistedQueryStore,
} from './persisted.ts';

/** Automatic persisted queries (when not `only`): the bounded store and the SDK's own operations, known up front. */
export type AutomaticPersisted = { store: PersistedQueryStore; known: PersistedOperations };

/**
 * What the GraphQL endpoint exposes and accepts, in one place (README "Limits"): operation limits, introspection
 * and suggestions, CSRF prevention, persisted operations (only the SDK's, or automatic persisted queries). app.ts adds these to Yoga; the WebSocket path reaches
 * the same parse/validate hooks through `yoga.getEnveloped`.
 */
export function surfacePlugins(config: Config, persisted: PersistedOperations | undefined, apq?: AutomaticPersisted): Plugin[] {
  return [
    csrfPreventionPlugin(),
    noInputEchoPlugin(),
    // Before the limits: with persisted operations on, an unknown document is refused before it is even tokenized.
    ...(persisted ? [persistedOperationsPlugin(persisted)] : []),
    ...(apq ? [automaticPersistedQueriesPlugin(apq.store, apq.known)] : []),
    ...armorPlugins(config.queryLimits),
    variableCostPlugin(config.queryLimits),
    ...(config.introspection ? [] : [disableIntrospectionPlugin(), hideSuggestionsPlugin()]),
  ];
}

/** Content types a browser may send cross-origin without a CORS preflight (the fetch spec's "simple" ones). */
const SIMPLE_CONTENT_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']);
/**
 * Headers a cross-origin page cannot send without a preflight: credentials (not CORS-safelisted) and the
 * conventional CSRF headers of Yoga and Apollo, for GET requests made by non-browser tools.
 */
export const CSRF_HEADERS = ['authorization', 'x-api-key', 'x-graphql-yoga-csrf', 'apollo-require-preflight'];

/**
 * A request must have been preflighted (a non-simple Content-Type such as application/json, or one of
 * CSRF_HEADERS), so a hostile page can neither post a form nor issue a GET that executes an operation with the
 * browser's ambient access (cookies, network position). GraphiQL's page itself is served before this check.
 */
export function csrfPreventionPlugin(): Plugin {
  return {
    onRequestParse({ request }) {
      if (CSRF_HEADERS.some((h) => request.headers.has(h))) return;
      const type = request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
      if (type && !SIMPLE_CONTENT_TYPES.has(type)) return;
      throw createGraphQLError(
        'This request could be a cross-site request forgery: send Content-Type: application/json, or an x-graphql-yoga-csrf header with GET.',
        { extensions: { code: 'CSRF_PREVENTED', http: { status: 403 } } },
      );
    },
  };
}

/**
 * WebSocket upgrades from browsers carry an Origin; when WS_ALLOWED_ORIGINS is set, only those may connect
 * (cross-site WebSocket hijacking). Non-browser clients send no Origin and are not affected.
 */
export function wsOriginAllowed(config: Config, req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (!config.wsAllowedOrigins || origin === undefined) return true;
  let normalized: string;
  try {
    normalized = new URL(origin).origin;
  } catch {
    return false;
  }
  return config.wsAllowedOrigins.includes(normalized);
}

/**
 * Yoga's CORS answer per request. Yoga's default reflects any Origin and allows credentials; here a foreign
 * Origin gets no CORS headers at all (the browser then refuses to hand the response to the page, and refuses the
 * preflight of any non-simple request), unless CORS_ORIGINS lists it. Same-origin pages (the dashboard at /)
 * need no CORS. Never `Access-Control-Allow-Credentials`: nothing here is a cookie.
 */
export function corsOptions(config: Config) {
  return (request: Request) => {
    const origin = request.headers.get('origin');
    if (!origin || config.corsOrigins.length === 0) return false as const;
    let normalized: string;
    try {
      normalized = new URL(origin).origin;
    } catch {
      return false as const;
    }
    if (!config.corsOrigins.includes(normalized)) return false as const;
    return {
      origin: [origin],
      credentials: false,
      methods: ['GET', 'POST'],
      allowedHeaders: ['content-type', 'accept', 'authorization', 'x-api-key', 'x-request-id', ...CSRF_HEADERS.slice(2)],
      maxAge: 600,
    };
  };
}

/** Errors answered on a WebSocket, without Yoga's HTTP-only extensions (status codes mean nothing there). */
export function wsErrors(errors: readonly GraphQLError[]): GraphQLError[] {
  return errors.map((e) => {
    if (!e.extensions?.http) return e;
    const { http: _http, ...extensions } = e.extensions;
    return new GraphQLError(e.message, { nodes: e.nodes, source: e.source, positions: e.positions, path: e.path, originalError: e.originalError, extensions });
  });
}
