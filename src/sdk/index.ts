// The entry point of @vaultgate/sdk (built into packages/sdk/dist): the typed client, every operation as a
// TypedDocumentNode with its result and variables types, and the schema's possible types for normalized caches.
import introspection from './possibleTypes.js';

export * from './client.js';

/**
 * Which concrete types each union and interface of the schema may be, e.g. `CreateCredentialResult` →
 * `["CreateCredentialPayload", "ValidationError", …]`. Give it to Apollo's `new InMemoryCache({ possibleTypes })`
 * or urql Graphcache's `cacheExchange({ possibleTypes })`: without it they cannot match `... on Error { message }`
 * fragments on union members, and drop those fields (servers in production do not answer introspection).
 */
export const possibleTypes: { [abstractType: string]: string[] } = introspection.possibleTypes;
