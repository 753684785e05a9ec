// The SQL projections of the lifecycle (stateWhere, needsReviewWhere) against their pure counterparts
// (effectiveState, needsReview), without a database: a small evaluator reads the Prisma filters against
// in-memory rows, with times on both sides of every boundary. test/integration/accessRequests.queues.test.ts
// checks the same through real SQL on both dialects; this one is exhaustive in what it generates and fast.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  effectiveState,
  needsReview,
  needsReviewWhere,
  REQUEST_STATES,
  stateWhere,
  type RequestState,
} from '../../src/modules/accessRequest/accessRequest.state.ts';

type Row = {
  state: RequestState;
  startsAt: Date;
  endsAt: Date;
  pendingExpiresAt: Date;
  availableAt: Date | null;
  reviewRequired: boolean;
  reviewedAt: Date | null;
};

const value = (v: unknown) => (v instanceof Date ? v.getTime() : v);

/** Prisma's where semantics for what the projections use: AND, OR, equality (null included), gt/gte/lt/lte, not, in. */
function matches(where: Record<string, unknown>, row: Row): boolean {
  return Object.entries(where).every(([key, cond]) => {
    if (key === 'AND') return (cond as Record<string, unknown>[]).every((w) => matches(w, row));
    if (key === 'OR') return (cond as Record<string, unknown>[]).some((w) => matches(w, row));
    if (!(key in row)) throw new Error(`the evaluator does not know the column ${key}`);
    const actual = value(row[key as keyof Row]);
    if (cond === null || typeof cond !== 'object' || cond instanceof Date) return actual === value(cond);
    return Object.entries(cond).every(([op, operand]) => {
      const o = value(operand);
      switch (op) {
        case 'gt': return actual !== null && (actual as number) > (o as number);
        case 'gte': return actual !== null && (actual as number) >= (o as number);
        case 'lt': return actual !== null && (actual as number) < (o as number);
        case 'lte': return actual !== null && (actual as number) <= (o as number);
        case 'not': return actual !== o;
        case 'in': return (operand as unknown[]).map(value).includes(actual);
        default: throw new Error(`the evaluator does not know the operator ${op}`);
      }
    });
  });
}

const NOW = new Date('2026-11-23T10:00:00Z');
const minute = (m: number) => new Date(NOW.getTime() + m * 60_000);

// Times a few minutes either side of now, so every comparison meets its boundary (equal to now) often.
const rowArb: fc.Arbitrary<Row> = fc
  .record({
    state: fc.constantFrom(...REQUEST_STATES),
    start: fc.integer({ min: -3, max: 3 }),
    length: fc.integer({ min: 1, max: 4 }),
    pendingBeforeEnd: fc.integer({ min: 0, max: 5 }),
    available: fc.option(fc.integer({ min: -5, max: 0 }), { nil: null }),
    reviewRequired: fc.boolean(),
    reviewed: fc.boolean(),
  })
  .map((r) => ({
    state: r.state,
    startsAt: minute(r.start),
    endsAt: minute(r.start + r.length),
    // The service caps the pending limit at the window's end.
    pendingExpiresAt: minute(r.start + r.length - Math.min(r.pendingBeforeEnd, r.length + 3)),
    availableAt: r.available === null ? null : minute(r.available),
    reviewRequired: r.reviewRequired,
    reviewedAt: r.reviewed ? minute(-1) : null,
  }));

describe('the SQL projections select exactly what the pure lifecycle says', () => {
  it('stateWhere([s]) holds exactly for rows whose effectiveState is s', () => {
    fc.assert(
      fc.property(rowArb, (row) => {
        for (const s of REQUEST_STATES) expect(matches(stateWhere([s], NOW), row), `${s} for ${JSON.stringify(row)}`).toBe(effectiveState(row, NOW) === s);
      }),
      { numRuns: 2000 },
    );
  });

  it('stateWhere of several states is their union (and of none, nothing)', () => {
    fc.assert(
      fc.property(rowArb, fc.uniqueArray(fc.constantFrom(...REQUEST_STATES), { maxLength: 4 }), (row, states) => {
        expect(matches(stateWhere(states, NOW), row)).toBe(states.includes(effectiveState(row, NOW)));
      }),
      { numRuns: 1000 },
    );
  });

  it('needsReviewWhere holds exactly when needsReview does', () => {
    fc.assert(
      fc.property(rowArb, (row) => {
        expect(matches(needsReviewWhere(NOW), row), JSON.stringify(row)).toBe(needsReview(row, NOW));
      }),
      { numRuns: 2000 },
    );
  });

  it('the evaluator is strict: a filter it cannot read fails the test instead of passing it', () => {
    const row = { state: 'PENDING', startsAt: NOW, endsAt: NOW, pendingExpiresAt: NOW, availableAt: null, reviewRequired: false, reviewedAt: null } as Row;
    expect(() => matches({ state: { startsWith: 'P' } }, row)).toThrow(/operator/);
    expect(() => matches({ nosuch: 1 }, row)).toThrow(/column/);
    expect(matches({ availableAt: { not: null } }, row)).toBe(false);
    expect(matches({ availableAt: null, state: { in: ['PENDING'] } }, row)).toBe(true);
  });
});
