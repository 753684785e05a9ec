import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * The dashboard's typed operations: graphql-codegen's client preset reads the committed schema.graphql and the
 * `graphql(…)` documents in web/src, and writes web/src/gql (generated on install by `npm run build:web`, not
 * committed). Documents are strings (TypedDocumentString), so the bundle carries no GraphQL parser.
 */
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['web/src/**/*.{ts,tsx}', '!web/src/gql/**'],
  ignoreNoDocuments: false,
  generates: {
    'web/src/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        documentMode: 'string',
        scalars: { DateTime: 'string', ID: 'string', JSON: 'unknown' },
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
};

export default config;
