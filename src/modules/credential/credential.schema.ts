// The credential part of the GraphQL schema, in four files: types (and typed errors), inputs, root query fields and
// mutations. graphql/schema.ts imports this one.
import './credential.types.ts';
import './credential.queryFields.ts';
import './credential.mutations.ts';
