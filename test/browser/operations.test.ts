import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as generated from '../../web/src/gql/graphql.ts';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { createOrg } from '../support/fixtures.ts';

/**
 * Every operation the dashboard sends passes the server's validation and query limits (depth, cost, tokens) at
 * their defaults: a page whose query the server refuses is a page that never loads.
 */
const documents = Object.entries(generated).filter(([name, value]) => name.endsWith('Document') && value instanceof String) as [string, String][];
// Run with empty variables, so nothing executes but validation; signing out would end the session the rest use.
const queries = documents.filter(([n, d]) => !/^\s*subscription\b/.test(String(d)) && n !== 'ShellSignOutDocument');

let server: TestServer;
let token: string;
beforeAll(async () => {
  server = await startTestServer();
  token = (await createOrg(server, 'ops')).admin.token;
});
afterAll(async () => server?.stop());

describe('dashboard operations', () => {
  it('are all generated from web/src', () => {
    expect(documents.length).toBeGreaterThan(20);
  });

  it.each(queries.map(([n, d]) => [n, String(d)]))('%s is valid and within the limits', async (_name, query) => {
    const res = await server.gql(query, {}, { token });
    const codes = (res.errors ?? []).map((e) => e.extensions?.code);
    expect(codes).not.toContain('QUERY_TOO_COMPLEX');
    expect(codes).not.toContain('GRAPHQL_VALIDATION_FAILED');
    // Refused for a reason that comes after validation (a missing variable), or answered.
    expect(codes).not.toContain('UNAUTHENTICATED');
  });

  it.each(documents.filter(([, d]) => /^\s*subscription\b/.test(String(d))).map(([n, d]) => [n, String(d)]))('%s is valid and within the limits', async (_name, query) => {
    const { createClient } = await import('graphql-ws');
    const { default: WebSocket } = await import('ws');
    const client = createClient({ url: server.url.replace('http', 'ws'), webSocketImpl: WebSocket, connectionParams: { token }, retryAttempts: 0 });
    // A subscription the server accepts stays open without a message; a refused one answers with errors at once.
    const outcome = await new Promise<unknown>((resolve) => {
      const stop = client.subscribe({ query, variables: {} }, { next: (v) => resolve(v), error: (e) => resolve(e), complete: () => resolve('complete') });
      setTimeout(() => {
        stop();
        resolve('open');
      }, 500);
    });
    await client.dispose();
    expect(JSON.stringify(outcome)).not.toMatch(/QUERY_TOO_COMPLEX|GRAPHQL_VALIDATION_FAILED|is too complex/);
  });
});
