import SchemaBuilder from '@pothos/core';
import { GraphQLError } from 'graphql';
import { ForbiddenError, MfaEnrollmentRequiredError } from '../lib/errors.ts';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import ErrorsPlugin from '@pothos/plugin-errors';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin, { decodeGlobalID } from '@pothos/plugin-relay';
import type PrismaTypes from '../generated/pothos-types.ts';
import { getDatamodel } from '../generated/pothos-types.ts';
import type { Context } from '../context.ts';
import type { Action } from '../policy/actions.ts';

/**
 * Plugins and options only; types are declared in the modules. Order matters: scope-auth runs first so that
 * nothing resolves before authorization; errors wraps resolvers before prisma shapes their queries.
 */
export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  AuthScopes: {
    /** Anyone, signed in or not (sign-in, bootstrap). */
    public: boolean;
    /** Any valid session or API key. */
    authenticated: boolean;
    /** The policy grants this action somewhere; the service then asserts it for the specific object. */
    can: Action;
  };
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
    ID: { Input: string; Output: string | number };
  };
  DefaultFieldNullability: false;
}>({
  plugins: [ScopeAuthPlugin, ErrorsPlugin, PrismaPlugin, RelayPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authorizeOnSubscribe: true,
    treatErrorsAsUnauthorized: false,
    // The same FORBIDDEN error services throw, so a client cannot tell which layer refused it.
    unauthorizedError: (_parent, context) =>
      context.policy.mfaEnrollmentRequired
        ? new MfaEnrollmentRequiredError()
        : context.policy.isAuthenticated
        ? new ForbiddenError()
        : new GraphQLError('Sign in first.', { extensions: { code: 'UNAUTHENTICATED' } }),
    authScopes: (context) => ({
      public: true,
      authenticated: context.policy.isAuthenticated && !context.policy.mfaEnrollmentRequired,
      can: (action) => context.policy.canSomewhere(action),
    }),
  },
  errors: {
    directResult: true,
    defaultUnionOptions: {
      name: ({ fieldName }) => `${fieldName.charAt(0).toUpperCase()}${fieldName.slice(1)}Result`,
    },
  },
  prisma: {
    client: (ctx) => ctx.db,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
    filterConnectionTotalCount: true,
    onUnusedQuery: null,
  },
  relay: {
    clientMutationId: 'omit',
    // An id with a NUL byte is malformed like any other (PostgreSQL refuses NUL in text, which would surface as
    // an unexpected error in node(id)/nodes(ids) instead). Every malformed id answers the same coded error
    // (INVALID_ID), which does not repeat the id (it may be anything, of any length).
    decodeGlobalID: (globalID) => {
      let decoded: ReturnType<typeof decodeGlobalID>;
      try {
        decoded = decodeGlobalID(globalID);
      } catch {
        throw invalidGlobalId();
      }
      if (decoded.id.includes('\u0000') || decoded.id === '' || decoded.typename === '') throw invalidGlobalId();
      return decoded;
    },
    cursorType: 'String',
    nodeQueryOptions: {
      authScopes: { authenticated: true },
      description: 'Fetches any object by its global id; null when it does not exist or the viewer may not see it.',
    },
    nodesQueryOptions: {
      authScopes: { authenticated: true },
      description: 'Fetches objects by global id; each entry is null when missing or not visible to the viewer.',
    },
    nodeTypeOptions: { description: 'An object with a global id.' },
    defaultConnectionTypeOptions: { description: 'A page of results (Relay connection).' },
    defaultEdgeTypeOptions: { description: 'One result in a page, with its cursor.' },
    edgesFieldOptions: { description: 'The results in this page.' },
    pageInfoFieldOptions: { description: 'Where this page sits within all results.' },
    cursorFieldOptions: { description: 'Opaque cursor: pass it as `after` to read the next page.' },
    nodeFieldOptions: { description: 'The result.' },
    hasNextPageFieldOptions: { description: 'Whether more results follow this page.' },
    hasPreviousPageFieldOptions: { description: 'Whether results precede this page.' },
    startCursorFieldOptions: { description: 'Cursor of the first result in this page.' },
    endCursorFieldOptions: { description: 'Cursor of the last result in this page.' },
    firstArgOptions: { description: 'Page size (from the start, or after `after`).' },
    lastArgOptions: { description: 'Page size from the end (or before `before`).' },
    afterArgOptions: { description: 'Return results after this cursor.' },
    beforeArgOptions: { description: 'Return results before this cursor.' },
    idFieldOptions: { description: 'Global id.' },
    pageInfoTypeOptions: { description: 'Where a page sits within a connection.' },
  },
});

/** A global id that does not decode (e.g. a raw database id given to `node`). */
export function invalidGlobalId(): GraphQLError {
  return new GraphQLError('Invalid global ID.', { extensions: { code: 'INVALID_ID' } });
}

builder.queryType({ description: 'Entry points for reading.' });
builder.mutationType({ description: 'Entry points for changing state. Expected refusals are typed results, not errors.' });

/** The builder's type parameters, for helpers that take a field builder (shared input fields and the like). */
export type BuilderTypes = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;
