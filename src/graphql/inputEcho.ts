import {
  coerceInputValue,
  GraphQLError,
  isInputObjectType,
  isListType,
  isNonNullType,
  Kind,
  print,
  typeFromAST,
  type DocumentNode,
  type GraphQLInputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';

/**
 * Error messages never repeat what a client submitted (issue 12: `Variable "$i" got invalid value {…password:
 * "…"}` put a password into the response, and into any log or proxy that keeps responses).
 *
 * - Variables are coerced here first, before graphql-js does: a bad value is reported by its path and the type
 *   expected there, never by the value.
 * - Validation errors about values written into the document (`Expected value of type …, found <value>`) have the
 *   value replaced.
 * - GET parameters that are not JSON (`variables`, `extensions`) answer 400 instead of an unexpected error with a
 *   stack trace in the log; no parse error's message (which quotes the body) reaches the client.
 */
export function noInputEchoPlugin(): Plugin {
  const refuseVariables = (schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, variables: unknown) => {
    const operation = pickOperation(document, operationName);
    if (!operation) return null;
    const errors = variableErrors(schema, operation, (variables ?? {}) as Record<string, unknown>);
    return errors.length > 0 ? errors : null;
  };
  return {
    onRequestParse({ request }) {
      if (request.method !== 'GET') return;
      const params = new URL(request.url).searchParams;
      for (const name of ['variables', 'extensions']) {
        const raw = params.get(name);
        if (raw === null || raw === '') continue;
        try {
          JSON.parse(raw);
        } catch {
          throw createGraphQLError(`The "${name}" parameter is not valid JSON.`, { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
        }
      }
    },
    onValidate: () => ({ valid, result, setResult }) => {
      if (!valid) setResult((result as readonly GraphQLError[]).map(withoutLiteralValues));
    },
    onExecute({ args, setResultAndStopExecution }) {
      const errors = refuseVariables(args.schema, args.document, args.operationName, args.variableValues);
      if (errors) setResultAndStopExecution({ errors });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const errors = refuseVariables(args.schema, args.document, args.operationName, args.variableValues);
      if (errors) setResultAndStopExecution({ errors });
    },
    onResultProcess({ result }) {
      // Yoga attaches the JSON parser's error (which quotes the body) to "POST body sent invalid JSON.". Removed in
      // place: the error keeps everything else (its HTTP status among it).
      const r = result as { errors?: readonly GraphQLError[] };
      if (!r || Array.isArray(result)) return;
      for (const e of r.errors ?? []) {
        if (e.extensions && 'originalError' in e.extensions) delete (e.extensions as Record<string, unknown>).originalError;
      }
    },
  };
}

function pickOperation(document: DocumentNode, operationName: string | null | undefined): OperationDefinitionNode | undefined {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  return operationName ? operations.find((o) => o.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
}

const MAX_ERRORS = 20;

function variableErrors(schema: GraphQLSchema, operation: OperationDefinitionNode, inputs: Record<string, unknown>): GraphQLError[] {
  const errors: GraphQLError[] = [];
  if (typeof inputs !== 'object' || inputs === null || Array.isArray(inputs)) return errors;
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    const type = typeFromAST(schema, definition.type) as GraphQLInputType | undefined;
    // Unknown types, missing and null values are graphql-js's to report (its messages name no value).
    if (!type || !Object.hasOwn(inputs, name) || inputs[name] === null) continue;
    coerceInputValue(inputs[name], type, (path, _invalid, error) => {
      if (errors.length >= MAX_ERRORS) return;
      const at = path.length > 0 ? ` at "${name}${path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('')}"` : '';
      // graphql-js's own reasons for a missing or an unknown field name fields and types, never values.
      const structural = /^Field "[^"]{1,200}" (of required type "[^"]{1,200}" was not provided|is not defined by type "[^"]{1,200}")\./.test(error.message) ? ` ${error.message.split(/(?<=\.) /)[0]}` : '';
      const expected = typeAt(type, path);
      const reason = structural || (expected ? ` Expected a value of type "${expected}".` : '');
      errors.push(new GraphQLError(`Variable "$${name}" got an invalid value${at}.${reason}`, { nodes: definition, extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } }));
    });
  }
  return errors;
}

/** The type expected at `path` inside a value of `type`. */
function typeAt(type: GraphQLInputType, path: readonly (string | number)[]): string | null {
  let current: GraphQLInputType = type;
  for (const segment of path) {
    const inner = isNonNullType(current) ? current.ofType : current;
    if (isListType(inner) && typeof segment === 'number') current = inner.ofType;
    else if (isInputObjectType(inner) && typeof segment === 'string') {
      const field = inner.getFields()[segment];
      if (!field) return null;
      current = field.type;
    } else return null;
  }
  return String(current);
}

/** A validation error with every value node it points at replaced by "the given value" in its message. */
function withoutLiteralValues(e: GraphQLError): GraphQLError {
  const values = (e.nodes ?? []).filter((n) => VALUE_KINDS.has(n.kind));
  if (values.length === 0) return e;
  let message = e.message;
  for (const node of values) {
    const text = print(node);
    if (text.length > 0) message = message.split(text).join('the given value');
  }
  if (message === e.message) return e;
  return new GraphQLError(message, { nodes: e.nodes, source: e.source, positions: e.positions, path: e.path, originalError: e.originalError, extensions: e.extensions });
}

const VALUE_KINDS = new Set<string>([Kind.STRING, Kind.INT, Kind.FLOAT, Kind.BOOLEAN, Kind.ENUM, Kind.LIST, Kind.OBJECT, Kind.NULL]);
