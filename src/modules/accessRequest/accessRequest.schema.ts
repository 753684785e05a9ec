// The access-request part of the GraphQL schema, in four files: object types, inputs, root query fields and
// mutations. graphql/schema.ts imports this one.
import './accessRequest.types.ts';
import './accessRequest.queryFields.ts';
import './accessRequest.mutations.ts';
