import { createHash } from 'node:crypto';
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, split } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition, relayStylePagination } from '@apollo/client/utilities';
import { cacheExchange, Client as UrqlClient, fetchExchange, subscriptionExchange, type Exchange } from '@urql/core';
import { persistedExchange } from '@urql/exchange-persisted';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { possibleTypes } from '../../src/sdk/index.ts';
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
