import { isObjectType, isUnionType, lexicographicSortSchema, type GraphQLSchema } from 'graphql';
import { builder } from './builder.ts';
import './scalars.ts';
import './errors.ts';
import '../modules/user/user.schema.ts';
import '../modules/organization/organization.schema.ts';
import '../modules/apiKey/apiKey.schema.ts';
import '../modules/auth/auth.schema.ts';
import '../modules/auth/mfa.schema.ts';
import '../modules/audit/audit.schema.ts';
import '../modules/category/category.schema.ts';
import '../modules/folder/folder.schema.ts';
import '../modules/credential/credential.schema.ts';
import '../modules/accessPolicy/accessPolicy.schema.ts';
import '../modules/accessRequest/accessRequest.schema.ts';
import '../modules/workflow/workflow.schema.ts';
import '../modules/realtime/realtime.schema.ts';

let built: GraphQLSchema | undefined;

/**
 * Types the plugins generate (mutation result unions, connection counts) get descriptions derived from their
 * role, so that every public type and field is described without repeating the same sentence per field.
 */
function describeGenerated(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (isUnionType(type) && !type.description && type.name.endsWith('Result')) {
      const mutation = type.name.slice(0, -'Result'.length);
      type.description = `What ${mutation.charAt(0).toLowerCase()}${mutation.slice(1)} returns: its payload, or one of the typed errors it can refuse with (branch on __typename).`;
    }
    if (isObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        for (const arg of field.args) {
          if (arg.description) continue;
          if (arg.name === 'input') arg.description = `The input of ${field.name}; see ${String(arg.type).replace('!', '')}.`;
          if (arg.name === 'id') arg.description = 'A global id.';
          if (arg.name === 'ids') arg.description = 'Global ids.';
        }
      }
    }
    if (isObjectType(type) && type.name.endsWith('Connection')) {
      const total = type.getFields().totalCount;
      if (total && !total.description) total.description = 'How many results there are in all, across pages.';
    }
  }
  return schema;
}

/** The executable schema, built once. */
export function getSchema(): GraphQLSchema {
  built ??= describeGenerated(builder.toSchema({ sortSchema: false }));
  return built;
}

/** The schema as committed in schema.graphql: sorted, so that diffs show real changes only. */
export function getSortedSchema(): GraphQLSchema {
  return lexicographicSortSchema(getSchema());
}
