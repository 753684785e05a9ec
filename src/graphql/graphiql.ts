import type { GraphiQLOptions } from 'graphql-yoga';

/**
 * GraphiQL as the server serves it: its HTML, scripts, styles and editor workers come from
 * @graphql-yoga/render-graphiql inside this install, so the page requests nothing from outside the machine
 * (no CDN; works offline and behind a firewall).
 *
 * Subscriptions typed into it run over SSE (an HTTP request per subscription, `Accept: text/event-stream`): they
 * carry the Headers tab's Authorization like any query, go through the same context, limits and policy, are
 * re-authenticated on every delivery, and are closed when the credentials stop being valid or the reader stalls.
 */
export const GRAPHIQL_DEFAULT_QUERY = `# Welcome to vaultgate's GraphiQL.
#
# 1. First start: create the first administrator (only while no user exists):
#
#      mutation Bootstrap {
#        bootstrap(input: { email: "you@example.com", name: "You",
#                           password: "a long passphrase", organizationName: "Your org" }) {
#          __typename
#          ... on BootstrapPayload { token }
#          ... on Error { message }
#        }
#      }
#
#    Afterwards, sign in (the token is shown only in this answer):
#
#      mutation SignIn {
#        signIn(input: { email: "you@example.com", password: "a long passphrase" }) {
#          __typename
#          ... on SignInPayload { token expiresAt }
#          ... on Error { message }
#        }
#      }
#
# 2. Open the Headers tab (below the editor) and put the token there:
#
#      { "Authorization": "Bearer <the token>" }
#
#    Every query, mutation and subscription from this page then runs as you.
#
# 3. Subscriptions work here too (they run over server-sent events with the same header), e.g.
#
#      subscription { passwordAccessed { cursor accessRecord { credentialName surface at } } }
#
# Press Ctrl-Enter to run the operation under the cursor.

query Viewer {
  viewer {
    kind
    user { email name }
  }
}
`;

export function graphiqlOptions(): GraphiQLOptions {
  return {
    title: 'vaultgate GraphiQL',
    defaultQuery: GRAPHIQL_DEFAULT_QUERY,
    subscriptionsProtocol: 'SSE',
    // What was typed in the Headers tab (a token) is not kept in the browser's storage.
    shouldPersistHeaders: false,
  };
}

/**
 * Yoga's renderGraphiQL hook. The page is large (about 9 MB of inlined scripts), so the module holding it is
 * loaded on the first GraphiQL request, not at start-up.
 */
export async function renderGraphiQL(options: GraphiQLOptions): Promise<string> {
  const { renderGraphiQL: render } = await import('@graphql-yoga/render-graphiql');
  return render(options);
}
