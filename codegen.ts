import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * The typed SDK (@vaultgate/sdk, built from src/sdk into packages/sdk/dist): TypedDocumentNode documents for every
 * operation in src/sdk/operations and the schema's possible types, generated from the committed schema.graphql
 * (never from server code). Run `npm run sdk:generate` after changing either, and commit the result.
 */
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['src/sdk/operations/**/*.graphql'],
  generates: {
    'src/sdk/generated.ts': {
      plugins: ['typescript-operations', 'typed-document-node'],
      config: {
        scalars: { DateTime: 'string', ID: 'string', JSON: 'unknown' },
        enumsAsTypes: true,
        avoidOptionals: { field: true, inputValue: false, object: true, defaultValue: false },
        useTypeImports: true,
        skipTypename: false,
        nonOptionalTypename: false,
      },
    },
    // Which concrete types each union and interface may be: Apollo's InMemoryCache (and urql Graphcache) need it
    // to match `... on Error { message }` fragments without introspection, which production servers turn off.
    'src/sdk/possibleTypes.ts': {
      plugins: ['fragment-matcher'],
      config: { apolloClientVersion: 3, deterministic: true, useExplicitTyping: true },
    },
  },
};

export default config;
