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
import { isAction } from '../../src/policy/actions.ts';

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
