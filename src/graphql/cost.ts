import {
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
  type ArgumentNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { QueryLimits } from '../config.ts';
import { queryTooComplex } from './limits.ts';

/**
 * The cost of an operation with its variables, checked when it is about to execute (HTTP and WebSocket alike),
 * after graphql-armor's check at validation time, which sees only literals: `first: $n` was costed as one item and
 * `nodes(ids: $ids)` as one node whatever the list held (issue 12).
 *
 * The formula is armor's (objects 2, scalars 1, each level of nesting ×1.5), with one multiplier per field: the
 * larger of its page size (`first` / `last`, literal or variable, at most the 100 rows a connection returns) and its longest list argument (at any depth of an
 * input object, literal or variable). Fragment costs are computed once per fragment and counted at every spread.
 * A list argument longer than `maxListItems` anywhere is refused outright.
 */
const OBJECT_COST = 2;
const SCALAR_COST = 1;
const DEPTH_FACTOR = 1.5;
/** Pothos's default connection maxSize (no connection here sets another): a larger `first` still reads this many. */
const PAGE_MAX = 100;

export type OperationCost = { cost: number; longestList: number };

export function operationCost(document: DocumentNode, operationName: string | null | undefined, variables: Record<string, unknown> | null | undefined): OperationCost {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
  if (!operation) return { cost: 0, longestList: 0 };
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const vars = variables ?? {};
  const variableLists = new Map<string, number>();
  const fragmentCosts = new Map<string, number>();
  let longestList = 0;

  /** The longest list inside a JSON value (a variable's value); each variable is walked once. */
  const longestIn = (value: unknown): number => {
    let longest = 0;
    const stack: unknown[] = [value];
    while (stack.length > 0) {
      const v = stack.pop();
      if (Array.isArray(v)) {
        longest = Math.max(longest, v.length);
        for (const item of v) if (item !== null && typeof item === 'object') stack.push(item);
      } else if (v !== null && typeof v === 'object') {
        for (const item of Object.values(v)) if (item !== null && typeof item === 'object') stack.push(item);
      }
    }
    return longest;
  };
  const variableList = (name: string): number => {
    let n = variableLists.get(name);
    if (n === undefined) variableLists.set(name, (n = longestIn(vars[name])));
    return n;
  };
  const listIn = (node: ValueNode): number => {
    switch (node.kind) {
      case Kind.VARIABLE:
        return variableList(node.name.value);
      case Kind.LIST:
        return Math.max(node.values.length, ...node.values.map(listIn));
      case Kind.OBJECT:
        return Math.max(0, ...node.fields.map((f) => listIn(f.value)));
      default:
        return 0;
    }
  };
  const pageSize = (node: ValueNode): number => {
    const value = node.kind === Kind.VARIABLE ? vars[node.name.value] : node.kind === Kind.INT ? Number(node.value) : undefined;
    return typeof value === 'number' && Number.isFinite(value) ? Math.min(Math.max(value, 1), PAGE_MAX) : 1;
  };
  const multiplier = (args: readonly ArgumentNode[] | undefined): number => {
    let m = 1;
    for (const arg of args ?? []) {
      const list = listIn(arg.value);
      longestList = Math.max(longestList, list);
      m = Math.max(m, list);
      if (arg.name.value === 'first' || arg.name.value === 'last') m = Math.max(m, pageSize(arg.value));
    }
    return m;
  };
  const selectionCost = (set: SelectionSetNode, inProgress: Set<string>): number => {
    let total = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        // Real introspection is exempt here as in armor (bounded by MaxIntrospectionDepthRule and the token limit).
        if (selection.name.value === '__schema') continue;
        const own = selection.selectionSet ? OBJECT_COST + DEPTH_FACTOR * selectionCost(selection.selectionSet, inProgress) : SCALAR_COST;
        total += own * multiplier(selection.arguments);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        total += selectionCost(selection.selectionSet, inProgress);
      } else {
        const name = selection.name.value;
        let cost = fragmentCosts.get(name);
        if (cost === undefined) {
          const fragment = fragments.get(name);
          // A cycle is refused by validation already; here it only must not recurse forever.
          if (!fragment || inProgress.has(name)) continue;
          inProgress.add(name);
          cost = selectionCost(fragment.selectionSet, inProgress);
          inProgress.delete(name);
          fragmentCosts.set(name, cost);
        }
        total += cost;
      }
    }
    return total;
  };
  const cost = selectionCost(operation.selectionSet, new Set());
  return { cost, longestList };
}

/** Refuses, before any resolver runs, an operation whose cost with its variables or whose longest list is over the limits. */
export function variableCostPlugin(limits: QueryLimits): Plugin {
  const overLimit = (document: DocumentNode, operationName: string | null | undefined, variables: unknown) => {
    const { cost, longestList } = operationCost(document, operationName, variables as Record<string, unknown> | undefined);
    return cost > limits.maxCost || longestList > limits.maxListItems;
  };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      if (overLimit(args.document, args.operationName, args.variableValues)) setResultAndStopExecution({ errors: [queryTooComplex()] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      if (overLimit(args.document, args.operationName, args.variableValues)) setResultAndStopExecution({ errors: [queryTooComplex()] });
    },
  };
}
