import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { GraphQLError } from 'graphql';
import { register } from 'prom-client';
import { DependencyHealth, errorLabel, unavailableDependency } from '../../src/lib/health.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { ValidationError } from '../../src/lib/errors.ts';

const named = (name: string, props: Record<string, unknown> = {}, message = 'x') => Object.assign(new Error(message), { name, ...props });

describe('unavailableDependency', () => {
  const cyclic: Record<string, unknown> = { name: 'Error', message: 'loop' };
  cyclic.cause = cyclic;
  const cases: [string, unknown, 'database' | 'redis' | null][] = [
    ['Prisma: cannot reach the server', named('PrismaClientKnownRequestError', { code: 'P1001' }), 'database'],
    ['Prisma: server closed the connection', named('PrismaClientKnownRequestError', { code: 'P1017' }), 'database'],
    ['Prisma: pool timeout', named('PrismaClientKnownRequestError', { code: 'P2024' }), 'database'],
    ['Prisma: initialization', named('PrismaClientInitializationError'), 'database'],
    ['driver adapter: connection closed', named('DriverAdapterError', { cause: { kind: 'ConnectionClosed' } }), 'database'],
    ['PostgreSQL: admin shutdown (57P01)', named('DriverAdapterError', { cause: { kind: 'postgres', code: '57P01' } }), 'database'],
    [
      'a raw query whose connection closed (P2010 wrapping the adapter error)',
      named('PrismaClientKnownRequestError', { code: 'P2010', meta: { driverAdapterError: named('DriverAdapterError', { cause: { kind: 'ConnectionClosed' } }) } }),
      'database',
    ],
    [
      'a raw query refused by the database (P2010, a constraint)',
      named('PrismaClientKnownRequestError', { code: 'P2010', meta: { driverAdapterError: named('DriverAdapterError', { cause: { kind: 'postgres', code: '23505' } }) } }),
      null,
    ],
    ['node-postgres: terminated', new Error('Connection terminated unexpectedly'), 'database'],
    ['socket refused', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'database'],
    ['wrapped by GraphQL', new GraphQLError('Unexpected', { originalError: named('PrismaClientKnownRequestError', { code: 'P1001' }) }), 'database'],
    ['ioredis: retries exhausted', named('MaxRetriesPerRequestError'), 'redis'],
    ['ioredis: offline', new Error("Stream isn't writeable and enableOfflineQueue options is false"), 'redis'],
    ['unique violation', named('PrismaClientKnownRequestError', { code: 'P2002' }), null],
    ['PostgreSQL: serialization failure', named('DriverAdapterError', { cause: { kind: 'postgres', code: '40001' } }), null],
    ['a bug', new TypeError('undefined is not a function'), null],
    ['a typed refusal', ValidationError.field('input.name', 'required'), null],
    ['a cycle', cyclic, null],
    ['not an error', 'ECONNREFUSED', null],
  ];
  it.each(cases)('%s', (_label, error, expected) => {
    expect(unavailableDependency(error)).toBe(expected);
  });

  it('labels an error by class and code, never by message', () => {
    expect(errorLabel(Object.assign(new Error('secret host 10.1.2.3'), { code: 'ECONNREFUSED' }))).toBe('Error:ECONNREFUSED');
    expect(errorLabel(named('MaxRetriesPerRequestError', {}, 'password=hunter2'))).toBe('MaxRetriesPerRequestError');
  });
});

describe('DependencyHealth', () => {
  function health() {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _e, cb) => (lines.push(String(chunk)), cb()) });
    return { h: new DependencyHealth(createLogger('info', sink)), lines };
  }
  const gauge = async (dependency: string) =>
    (await register.getSingleMetric('vaultgate_dependency_up')!.get()).values.find((v) => v.labels.dependency === dependency)?.value;

  it('logs an outage once and its end once, however many times each is reported', async () => {
    const { h, lines } = health();
    h.register('redis', false);
    for (let i = 0; i < 50; i++) h.report('redis', 'rate-limits', false, 'Error:ECONNREFUSED');
    h.report('redis', 'publish', false);
    expect(lines.filter((l) => l.includes('dependency.down'))).toHaveLength(1);
    expect(await gauge('redis')).toBe(0);
    // Up only when every part is back.
    h.report('redis', 'rate-limits', true);
    expect(h.isUp('redis')).toBe(false);
    h.report('redis', 'publish', true);
    for (let i = 0; i < 50; i++) h.report('redis', 'publish', true);
    expect(h.isUp('redis')).toBe(true);
    expect(lines.filter((l) => l.includes('dependency.up'))).toHaveLength(1);
    expect(await gauge('redis')).toBe(1);
  });

  it('is ready unless a required dependency is down; reports each configured one', () => {
    const { h } = health();
    h.register('database', true);
    h.register('redis', false);
    h.report('redis', 'subscribe', false);
    expect(h.ready()).toBe(true);
    expect(h.dependencyState()).toEqual({
      database: { up: true, since: expect.any(String), required: true },
      redis: { up: false, since: expect.any(String), required: false },
    });
    h.report('database', 'connection', false);
    expect(h.ready()).toBe(false);
    // An unconfigured dependency is neither reported nor in the way.
    const { h: bare } = health();
    bare.report('redis', 'x', false);
    expect(bare.dependencyState()).toEqual({});
    expect(bare.ready()).toBe(true);
  });

  it('tells listeners about changes only', () => {
    const { h } = health();
    h.register('database', true);
    const seen: string[] = [];
    h.onChange((name, up) => seen.push(`${name}:${up}`));
    h.report('database', 'connection', false);
    h.report('database', 'connection', false);
    h.report('database', 'connection', true);
    expect(seen).toEqual(['database:false', 'database:true']);
  });
});
