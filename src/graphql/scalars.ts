import { GraphQLError, Kind, type ValueNode } from 'graphql';
import { builder } from './builder.ts';

function parseDate(value: unknown): Date {
  if (typeof value === 'string' && value.length <= 40) {
    const d = new Date(value);
    if (/^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(d.getTime())) return d;
  }
  throw new GraphQLError('DateTime must be an ISO 8601 string with a time, e.g. 2026-01-31T09:00:00Z.', {
    extensions: { code: 'BAD_USER_INPUT' },
  });
}

builder.scalarType('DateTime', {
  description: 'An instant in time, as an ISO 8601 string in UTC (e.g. 2026-01-31T09:00:00.000Z).',
  serialize: (value) => (value instanceof Date ? value : new Date(value as string)).toISOString(),
  parseValue: parseDate,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('DateTime must be a string.', { extensions: { code: 'BAD_USER_INPUT' } });
    return parseDate(ast.value);
  },
});

const JSON_MAX_DEPTH = 8;

/** The JSON WebAuthn speaks is small and shallow; anything deeper is refused before a service sees it. */
function shallowJson(value: unknown, depth = 0): unknown {
  if (depth > JSON_MAX_DEPTH) throw new GraphQLError(`JSON may nest at most ${JSON_MAX_DEPTH} levels.`, { extensions: { code: 'BAD_USER_INPUT' } });
  if (Array.isArray(value)) value.forEach((v) => shallowJson(v, depth + 1));
  else if (value !== null && typeof value === 'object') Object.values(value).forEach((v) => shallowJson(v, depth + 1));
  return value;
}

function jsonLiteral(ast: ValueNode): unknown {
  switch (ast.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return ast.values.map(jsonLiteral);
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((f) => [f.name.value, jsonLiteral(f.value)]));
    default:
      throw new GraphQLError('JSON literals cannot hold variables.', { extensions: { code: 'BAD_USER_INPUT' } });
  }
}

builder.scalarType('JSON', {
  description:
    'A JSON value, used only where a standard defines the shape (WebAuthn options and responses, as the browser APIs and @simplewebauthn/browser read and write them).',
  serialize: (value) => value,
  parseValue: (value) => shallowJson(value),
  parseLiteral: (ast) => shallowJson(jsonLiteral(ast)),
});
