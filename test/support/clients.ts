import { createHash } from 'node:crypto';
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, split } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition, relayStylePagination } from '@apollo/client/utilities';
import { cacheExchange, Client as UrqlClient, fetchExchange, subscriptionExchange, type Exchange } from '@urql/core';
import { persistedExchange } from '@urql/exchange-persisted';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { print } from 'graphql';
import { possibleTypes, RecordCredentialAccessDocument } from '../../src/sdk/index.ts';
import type { OrgFixture } from './fixtures.ts';
import type { TestServer } from './harness.ts';

// The three clients as docs/clients.md sets them up, pointed at a test server. Each records the JSON bodies it
// POSTs (to check which persisted-query round trips happened) and closes its WebSocket with close().

export type RecordedBody = { query?: string; extensions?: { persistedQuery?: { sha256Hash: string } } };

/** A fetch that records each operation it sends: the JSON body of a POST, the parameters of a GET. */
export const recordingFetch = (bodies: RecordedBody[]): typeof fetch =>
  (async (input: RequestInfo | URL, init?: RequestInit) => {
    if (typeof init?.body === 'string') bodies.push(JSON.parse(init.body) as RecordedBody);
    else {
      const params = new URL(String(input)).searchParams;
      const extensions = params.get('extensions');
      bodies.push({ ...(params.has('query') ? { query: params.get('query')! } : {}), ...(extensions ? { extensions: JSON.parse(extensions) } : {}) });
    }
    return fetch(input, init);
  }) as typeof fetch;

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export function wsClientFor(server: TestServer, token: string): WsClient {
  return createWsClient({ url: server.wsUrl, webSocketImpl: WebSocket, connectionParams: { token }, lazy: true, retryAttempts: 0 });
}

export function apolloClient(server: TestServer, token: string, options: { persisted?: boolean; possibleTypes?: boolean } = {}) {
  const bodies: RecordedBody[] = [];
  const ws = wsClientFor(server, token);
  const http = new HttpLink({ uri: server.url, headers: { authorization: `Bearer ${token}` }, fetch: recordingFetch(bodies) });
  const link = split(
    ({ query }) => {
      const definition = getMainDefinition(query);
      return definition.kind === 'OperationDefinition' && definition.operation === 'subscription';
    },
    new GraphQLWsLink(ws),
    options.persisted ? ApolloLink.from([new PersistedQueryLink({ sha256 }), http]) : http,
  );
  const cache = new InMemoryCache({
    ...(options.possibleTypes === false ? {} : { possibleTypes }),
    typePolicies: { Query: { fields: { credentials: relayStylePagination(['filter', 'orderBy']) } } },
  });
  const client = new ApolloClient({ link, cache });
  return { client, bodies, close: () => ws.dispose() };
}

export function urqlClient(server: TestServer, token: string, options: { persisted?: boolean } = {}) {
  const bodies: RecordedBody[] = [];
  const ws = wsClientFor(server, token);
  const exchanges: Exchange[] = [
    cacheExchange,
    ...(options.persisted ? [persistedExchange({ preferGetForPersistedQueries: false, enableForMutation: true })] : []),
    fetchExchange,
    subscriptionExchange({
      forwardSubscription: (request) => ({
        subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) }),
      }),
    }),
  ];
  const client = new UrqlClient({
    url: server.url,
    exchanges,
    fetch: recordingFetch(bodies),
    fetchOptions: { headers: { authorization: `Bearer ${token}` } },
    requestPolicy: 'network-only',
  });
  return { client, bodies, close: () => ws.dispose() };
}

/**
 * Records accesses to a credential until a subscription has delivered one: the server registers a subscription
 * asynchronously after `subscribe`, so the first access may come before it listens (bounded: 50 rounds).
 */
export async function accessUntilDelivered(server: TestServer, org: OrgFixture, credentialId: string, received: unknown[]) {
  for (let round = 0; round < 50 && received.length === 0; round++) {
    // The SDK's document, so that a PERSISTED_OPERATIONS=only server runs it too.
    const res = await server.gql(print(RecordCredentialAccessDocument), { input: { id: credentialId, surface: 'COPY' } }, org.admin);
    if (res.data?.recordCredentialAccess?.__typename !== 'RecordCredentialAccessPayload') throw new Error(`recordCredentialAccess: ${JSON.stringify(res)}`);
    for (let tick = 0; tick < 10 && received.length === 0; tick++) await new Promise((r) => setTimeout(r, 20));
  }
}
