import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isUnionType,
  printSchema,
  type GraphQLField,
  type GraphQLSchema,
} from 'graphql';
import { getSchema, getSortedSchema } from '../../src/graphql/schema.ts';
import { getDatamodel } from '../../src/generated/pothos-types.ts';
import { isAction } from '../../src/policy/actions.ts';
import { Policy } from '../../src/policy/policy.ts';
import { isReadableModel, type ReadableModel, type ReadableWhere } from '../../src/policy/readable.ts';

const schema: GraphQLSchema = getSchema();

function rootFields(): [string, GraphQLField<unknown, unknown>][] {
  return [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]
    .filter((t) => t != null)
    .flatMap((t) => Object.values(t!.getFields()).map((f) => [`${t!.name}.${f.name}`, f] as [string, GraphQLField<unknown, unknown>]));
}

describe('the policy chokepoint', () => {
  it('every root Query/Mutation/Subscription field declares an auth scope answered by the policy', () => {
    const fields = rootFields();
    expect(fields.length).toBeGreaterThan(10);
    const missing: string[] = [];
    for (const [name, field] of fields) {
      const scopes = (field.extensions as { pothosOptions?: { authScopes?: unknown } }).pothosOptions?.authScopes;
      if (!scopes || typeof scopes !== 'object' || Object.keys(scopes).length === 0) {
        missing.push(name);
        continue;
      }
      const can = (scopes as { can?: string }).can;
      if (can !== undefined && !isAction(can)) missing.push(`${name} (unknown action ${can})`);
    }
    expect(missing).toEqual([]);
  });
});

/** A policy whose `readable(model)` is a marker, so a field's Prisma query shows whether it asked for it. */
class MarkingPolicy extends Policy {
  override readable<M extends ReadableModel>(model: M): ReadableWhere[M] {
    return { readableMarker: model } as unknown as ReadableWhere[M];
  }
}

const containsMarker = (value: unknown, model: string): boolean => {
  if (Array.isArray(value)) return value.some((v) => containsMarker(v, model));
  if (value === null || typeof value !== 'object') return false;
  if ((value as { readableMarker?: unknown }).readableMarker === model) return true;
  return Object.values(value).some((v) => containsMarker(v, model));
};

type PrismaSelect = (args: object, ctx: object, nested: (q: unknown) => unknown, selection: () => Set<string>) => unknown;

/**
 * To-one relations: Prisma cannot filter them (`include: { organization: { where } }` does not exist), and each
 * is reached from a row the caller was already allowed to read. Adding one here is a decision: say why.
 */
const TO_ONE_REASONS: Record<string, string> = {
  organization: 'the row’s own organization: every readable row lies in an organization the caller may read',
  category: 'same organization as the credential; categories are readable wherever credentials are',
  folder: 'same organization as the credential; folders are readable wherever credentials are',
  parent: 'same organization as the folder',
  credential: 'the request’s credential, same organization (metadata only; null after deletion)',
  policy: 'the policy a request was made under: the request’s readers see the rules it is judged by',
  resubmittedFrom: 'the earlier request of the same requester, credential and policy',
  requester: 'who asked: shown with the request to everyone who may see the request',
  approver: 'who decided: part of the request’s record for everyone who may see the request',
  reviewedBy: 'who reviewed: part of the request’s record',
  createdBy: 'authorship of a readable row (a credential, an API key), kept after the author leaves',
  updatedBy: 'authorship of a readable row, kept after the author leaves',
  user: 'the member of a readable membership',
  asset: 'the asset a credential is an account of: same organization, and assets are readable wherever credentials are (asset:read has every role)',
  request: 'the access request a session was opened under: the session is readable only through that request (readable AccessSession)',
};

describe('row visibility goes through policy.readable', () => {
  const datamodel = getDatamodel().datamodel.models as Record<string, { fields: readonly { name: string; type: string }[] }>;
  const ctx = { policy: new MarkingPolicy({ kind: 'user', userId: 'u1', sessionId: 's1', isSystemAdmin: false, memberships: new Map([['o1', 'ADMIN']]) }) };

  /** Every prisma relation, relatedConnection and relationCount field: parent type, field, target model, its Prisma query. */
  function relationFields() {
    const found: { name: string; model: string; isList: boolean; query: unknown }[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type)) continue;
      const parentModel = (type.extensions as { pothosPrismaModel?: string }).pothosPrismaModel;
      for (const field of Object.values(type.getFields())) {
        const ext = field.extensions as { pothosPrismaRelationField?: { type: string; isList: boolean }; pothosPrismaSelect?: unknown };
        const select = ext.pothosPrismaSelect;
        if (typeof select !== 'function') continue;
        const nested = (q: unknown) => (typeof q === 'function' ? (q as (a: object, c: object) => unknown)({}, ctx) : q);
        const query = (select as PrismaSelect)({}, ctx, nested, () => new Set(['edges', 'totalCount']));
        const name = `${type.name}.${field.name}`;
        if (ext.pothosPrismaRelationField) {
          found.push({ name, model: ext.pothosPrismaRelationField.type, isList: ext.pothosPrismaRelationField.isList, query });
          continue;
        }
        // relationCount: `{ _count: { select: { relation: … } } }`
        type Counts = { _count?: { select?: Record<string, unknown> } };
        const counted = ((query as Counts)._count ?? (query as { select?: Counts }).select?._count)?.select;
        if (counted && parentModel) {
          for (const relation of Object.keys(counted)) {
            const target = datamodel[parentModel]?.fields.find((f) => f.name === relation)?.type;
            if (target) found.push({ name, model: target, isList: true, query });
          }
        }
      }
    }
    return found;
  }

  it('every list relation, connection and count over a model with a readable filter includes policy.readable(model)', () => {
    const fields = relationFields();
    expect(fields.length).toBeGreaterThan(20);
    const lists = fields.filter((f) => f.isList && isReadableModel(f.model));
    expect(lists.map((f) => f.name)).toEqual(expect.arrayContaining(['Organization.members', 'Credential.accessRequests', 'Folder.credentialCount']));
    expect(lists.filter((f) => !containsMarker(f.query, f.model)).map((f) => `${f.name} → ${f.model}`)).toEqual([]);
  });

  it('every to-one relation to such a model is one whose reason is written down here', () => {
    const unexplained = relationFields()
      .filter((f) => !f.isList && isReadableModel(f.model))
      .filter((f) => !TO_ONE_REASONS[f.name.split('.')[1]!])
      .map((f) => `${f.name} → ${f.model}`);
    expect(unexplained).toEqual([]);
  });

  it('every node loader (prismaNode findUnique) filters with policy.readable of its model', () => {
    const missing: string[] = [];
    let nodes = 0;
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type)) continue;
      const model = (type.extensions as { pothosPrismaModel?: string }).pothosPrismaModel;
      type Loader = (c: object) => { findUnique: (parent: object, c: object) => unknown };
      const loader = (type.extensions as { pothosPrismaLoader?: Loader }).pothosPrismaLoader;
      const isNode = type.getInterfaces().some((i) => i.name === 'Node');
      if (!model || !isNode || typeof loader !== 'function') continue;
      nodes++;
      if (!isReadableModel(model) || !containsMarker(loader(ctx).findUnique({ id: 'x' }, ctx), model)) missing.push(`${type.name} (${model})`);
    }
    expect(nodes).toBeGreaterThanOrEqual(12);
    expect(missing).toEqual([]);
  });
});

describe('schema.graphql', () => {
  it('is current: printed, sorted, from the Pothos schema (run `npm run schema:print`)', () => {
    const committed = readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8');
    expect(committed).toBe(`${printSchema(getSortedSchema())}\n`);
  });

  it('describes every public type, field, argument, enum value and input field', () => {
    const undocumented: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__') || ['String', 'Int', 'Float', 'Boolean', 'ID'].includes(type.name)) continue;
      if (!type.description) undocumented.push(type.name);
      if (isObjectType(type) || isInterfaceType(type)) {
        for (const f of Object.values(type.getFields())) {
          if (!f.description) undocumented.push(`${type.name}.${f.name}`);
          for (const a of f.args) if (!a.description) undocumented.push(`${type.name}.${f.name}(${a.name})`);
        }
      }
      if (isInputObjectType(type)) {
        for (const f of Object.values(type.getFields())) if (!f.description) undocumented.push(`${type.name}.${f.name}`);
      }
      if (isEnumType(type)) {
        for (const v of type.getValues()) if (!v.description) undocumented.push(`${type.name}.${v.name}`);
      }
      if (isUnionType(type) && !type.description) undocumented.push(type.name);
    }
    expect(undocumented).toEqual([]);
  });
});

describe('the typed SDK', () => {
  it('src/sdk/generated.ts and src/sdk/possibleTypes.ts are current with schema.graphql and the operations (run `npm run sdk:generate`)', async () => {
    const { generate } = await import('@graphql-codegen/cli');
    const config = (await import('../../codegen.ts')).default;
    const outputs: { filename: string; content: string }[] = await generate({ ...config, cwd: process.cwd(), silent: true }, false);
    expect(outputs.map((o) => relative(process.cwd(), o.filename)).sort()).toEqual(['src/sdk/generated.ts', 'src/sdk/possibleTypes.ts']);
    for (const output of outputs) expect(readFileSync(output.filename, 'utf8'), output.filename).toBe(output.content);
  });
});
