import { print, type DocumentNode } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';

export * from './generated.js';

/** The part of the Fetch API the client uses (the global `fetch` of browsers and Node ≥ 18 fits). */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string },
) => Promise<{ status: number; json(): Promise<unknown> }>;

export type VaultgateClientOptions = {
  /** The GraphQL endpoint, e.g. http://localhost:4000/graphql. */
  url: string;
  /** A session token from signIn, sent as `Authorization: Bearer …`. */
  token?: string;
  /** An API key, sent as `x-api-key`. */
  apiKey?: string;
  /** Defaults to the global `fetch`. */
  fetch?: FetchLike;
  /**
   * The WebSocket constructor for subscriptions. Defaults to the global `WebSocket` (browsers, Node ≥ 22); on
   * Node 20 pass the `ws` package's: `import WebSocket from 'ws'` → `webSocketImpl: WebSocket`.
   */
  webSocketImpl?: unknown;
  /** The subscription endpoint, when it is not the `url` with http(s) replaced by ws(s). */
  wsUrl?: string;
};

export type GraphQLErrorShape = { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> };

/** The server answered with GraphQL errors (FORBIDDEN, UNAUTHENTICATED, …) or an HTTP failure. */
export class VaultgateRequestError extends Error {
  override name = 'VaultgateRequestError';
  constructor(
    readonly status: number,
    readonly errors: GraphQLErrorShape[],
  ) {
    super(errors.map((e) => e.message).join('; ') || `HTTP ${status}`);
  }
  /** The first error's code, e.g. "FORBIDDEN" or "UNAUTHENTICATED". */
  get code(): string | undefined {
    return this.errors[0]?.extensions?.code as string | undefined;
  }
  /** With RATE_LIMITED (HTTP 429, too many invalid credentials from this address): seconds to wait. */
  get retryAfterSeconds(): number | undefined {
    const v = this.errors[0]?.extensions?.retryAfterSeconds;
    return typeof v === 'number' ? v : undefined;
  }
}

const documentText = new WeakMap<DocumentNode, string>();
const textOf = (doc: DocumentNode) => {
  let text = documentText.get(doc);
  if (!text) documentText.set(doc, (text = print(doc)));
  return text;
};

/**
 * A small typed client: `request(SignInDocument, { input })` returns the operation's result type. Typed errors
 * (ValidationError, …) arrive as data to branch on by `__typename`; transport and authorization failures throw
 * VaultgateRequestError.
 */
export function createVaultgateClient(options: VaultgateClientOptions) {
  const globalFetch = (globalThis as { fetch?: FetchLike }).fetch;
  const doFetch: FetchLike | undefined = options.fetch ?? (globalFetch ? (url, init) => globalFetch(url, init) : undefined);
  if (!doFetch) throw new TypeError('vaultgate: this runtime has no global fetch; pass one as `fetch`.');
  const auth: Record<string, string> = {};
  if (options.token) auth.authorization = `Bearer ${options.token}`;
  if (options.apiKey) auth['x-api-key'] = options.apiKey;
  let ws: WsClient | undefined;

  return {
    async request<TResult, TVariables extends Record<string, unknown>>(
      document: TypedDocumentNode<TResult, TVariables>,
      ...[variables]: TVariables extends Record<string, never> ? [] | [TVariables] : [TVariables]
    ): Promise<TResult> {
      const res = await doFetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...auth },
        body: JSON.stringify({ query: textOf(document), variables: variables ?? {} }),
      });
      let body: { data?: TResult | null; errors?: GraphQLErrorShape[] };
      try {
        body = (await res.json()) as typeof body;
      } catch {
        throw new VaultgateRequestError(res.status, []);
      }
      if (body.errors?.length || !body.data) throw new VaultgateRequestError(res.status, body.errors ?? []);
      return body.data;
    },

    /** Runs a subscription over graphql-ws on the same URL; iterate the result with `for await`. */
    subscribe<TResult, TVariables extends Record<string, unknown>>(
      document: TypedDocumentNode<TResult, TVariables>,
      variables?: TVariables,
    ): AsyncIterableIterator<{ data?: TResult | null; errors?: readonly GraphQLErrorShape[] }> {
      const webSocketImpl = options.webSocketImpl ?? (globalThis as { WebSocket?: unknown }).WebSocket;
      if (!webSocketImpl) {
        throw new TypeError(
          'vaultgate: no WebSocket implementation for subscriptions. This runtime has no global WebSocket (Node 20); pass one: `import WebSocket from "ws"` and createVaultgateClient({ …, webSocketImpl: WebSocket }).',
        );
      }
      ws ??= createWsClient({
        url: options.wsUrl ?? options.url.replace(/^http/, 'ws'),
        webSocketImpl,
        connectionParams: { ...(options.token ? { token: options.token } : {}), ...(options.apiKey ? { apiKey: options.apiKey } : {}) },
        lazy: true,
        retryAttempts: 5,
      });
      return ws.iterate({ query: textOf(document), variables }) as AsyncIterableIterator<{
        data?: TResult | null;
        errors?: readonly GraphQLErrorShape[];
      }>;
    },

    /** Closes the WebSocket, if one was opened. */
    async close(): Promise<void> {
      await ws?.dispose();
    },
  };
}

export type VaultgateClient = ReturnType<typeof createVaultgateClient>;
