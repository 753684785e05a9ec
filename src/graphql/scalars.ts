import { GraphQLError, Kind } from 'graphql';
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
