import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * The typed SDK: TypedDocumentNode documents for every operation in src/sdk/operations, generated from the
 * committed schema.graphql (never from server code). Run `npm run sdk:generate` after changing either.
 */
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['src/sdk/operations/**/*.graphql'],
  generates: {
    'src/sdk/generated.ts': {
      plugins: ['typescript-operations', 'typed-document-node'],
      config: {
        scalars: { DateTime: 'string', ID: 'string' },
        enumsAsTypes: true,
        avoidOptionals: { field: true, inputValue: false, object: true, defaultValue: false },
        useTypeImports: true,
        skipTypename: false,
        nonOptionalTypename: false,
      },
    },
  },
};

export default config;
