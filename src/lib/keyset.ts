import { GraphQLError } from 'graphql';
import { resolveCursorConnection } from '@pothos/plugin-relay';

/**
 * Keyset ("seek") pagination. A cursor carries the position itself — the order's name, the row's sort value and
 * its id — never a reference to a row that must still exist. The next page is `(sortValue, id) > (cursor's)` in the
 * order's direction, so paging continues correctly when the cursor's row is deleted, renamed or moved, and a
 * cursor is answered from its content alone: no row is read to interpret it, so a cursor made from another
 * organization's row reveals nothing and is just a position. A cursor that does not parse, or belongs to another
 * order, is refused with BAD_USER_INPUT — the same for every malformed cursor.
 */

export type SortValue = string | Date;
export type KeysetOrder = {
  /** Names the order inside the cursor (a cursor of one order is refused by another). */
  tag: string;
  /** The sort column; its values must never be null. */
  column: string;
  direction: 'asc' | 'desc';
  kind: 'string' | 'date';
};

type ConnectionArgs = { first?: number | null; last?: number | null; after?: string | null; before?: string | null };

const PREFIX = 'k1:';
const MAX_CURSOR_LENGTH = 2048;

export function encodeKeysetCursor(order: KeysetOrder, row: Record<string, unknown> & { id: string }): string {
  const value = row[order.column];
  const v = value instanceof Date ? value.toISOString() : String(value);
  return PREFIX + Buffer.from(JSON.stringify([order.tag, v, row.id]), 'utf8').toString('base64url');
}

function invalidCursor(): GraphQLError {
  return new GraphQLError('The cursor is not valid for this list and order; start again without one.', { extensions: { code: 'BAD_USER_INPUT' } });
}

export function decodeKeysetCursor(order: KeysetOrder, cursor: string): { value: SortValue; id: string } {
  if (cursor.length > MAX_CURSOR_LENGTH || !cursor.startsWith(PREFIX)) throw invalidCursor();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor.slice(PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (!Array.isArray(parsed) || parsed.length !== 3 || parsed[0] !== order.tag) throw invalidCursor();
  const [, raw, id] = parsed as unknown[];
  if (typeof raw !== 'string' || typeof id !== 'string' || id.length === 0 || id.length > 64 || raw.length > 1024) throw invalidCursor();
  if (raw.includes('\u0000') || id.includes('\u0000')) throw invalidCursor();
  if (order.kind === 'date') {
    const date = new Date(raw);
    if (Number.isNaN(date.getTime()) || date.toISOString() !== raw) throw invalidCursor();
    return { value: date, id };
  }
  return { value: raw, id };
}

/**
 * Rows strictly after (or before) a position in an order. The first condition repeats the range on the sort
 * column alone, so the scan starts at the position in the list's index instead of filtering the whole order.
 */
function beyond(order: KeysetOrder, at: { value: SortValue; id: string }, forward: boolean): Record<string, unknown> {
  const ascending = (order.direction === 'asc') === forward;
  const strict = ascending ? 'gt' : 'lt';
  const loose = ascending ? 'gte' : 'lte';
  return {
    AND: [
      { [order.column]: { [loose]: at.value } },
      { OR: [{ [order.column]: { [strict]: at.value } }, { [order.column]: at.value, id: { [strict]: at.id } }] },
    ],
  };
}

/**
 * One page of a keyset connection. `fetch` reads the rows with the given `where` (to AND with the list's own
 * filter), `orderBy` and `take`; Pothos's relay helper turns them into edges and pageInfo.
 */
export async function keysetConnection<Row extends { id: string }>(
  args: ConnectionArgs,
  order: KeysetOrder,
  fetch: (page: { where: Record<string, unknown>; orderBy: Record<string, 'asc' | 'desc'>[]; take: number }) => Promise<Row[]>,
  options: { defaultSize?: number; maxSize?: number } = {},
) {
  // Parsed before anything is read, so a malformed cursor costs no query.
  const after = args.after ? decodeKeysetCursor(order, args.after) : null;
  const before = args.before ? decodeKeysetCursor(order, args.before) : null;
  return resolveCursorConnection(
    {
      args: { first: args.first ?? undefined, last: args.last ?? undefined, after: args.after ?? undefined, before: args.before ?? undefined },
      defaultSize: options.defaultSize ?? 20,
      maxSize: options.maxSize ?? 100,
      toCursor: (row) => encodeKeysetCursor(order, row as Row & Record<string, unknown>),
    },
    ({ limit, inverted }): Promise<Row[]> => {
      const and: Record<string, unknown>[] = [];
      if (after) and.push(beyond(order, after, true));
      if (before) and.push(beyond(order, before, false));
      const ascending = (order.direction === 'asc') !== inverted;
      const dir = ascending ? 'asc' : 'desc';
      return fetch({ where: and.length ? { AND: and } : {}, orderBy: [{ [order.column]: dir }, { id: dir }], take: limit });
    },
  ) as Promise<{ edges: { cursor: string; node: Row }[]; pageInfo: { startCursor?: string | null; endCursor?: string | null; hasPreviousPage: boolean; hasNextPage: boolean } }>;
}
