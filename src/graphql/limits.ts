import { EnvelopArmor } from '@escape.tech/graphql-armor';
import {
  GraphQLError,
  MaxIntrospectionDepthRule,
  NoSchemaIntrospectionCustomRule,
  type ASTVisitor,
  type ExecutionResult,
  type ValidationContext,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { QueryLimits } from '../config.ts';
import { stripDidYouMean } from '../lib/text.ts';

/**
 * Limits on what one operation may ask for, enforced while it is parsed and validated, before any resolver runs,
 * for HTTP and WebSocket alike (app.ts's graphql-ws onSubscribe runs the same envelop parse/validate).
 */

export const QUERY_TOO_COMPLEX = 'QUERY_TOO_COMPLEX';

/**
 * One answer for every limit. It names neither the limit nor the measured value: a client learns that the
 * operation is too big, not where the thresholds are (they are documented, and configurable per deployment).
 */
export const queryTooComplex = () =>
  new GraphQLError('Query is too complex.', { extensions: { code: QUERY_TOO_COMPLEX } });

/**
 * graphql-armor's depth, cost, alias, directive and token limits. Rejections are reported as validation errors
 * (never thrown from inside `validate`, which would abort graphql-ws's subscribe with 4500) and replaced by
 * `queryTooComplex()`. Deliberate choices against the known limiter bypasses:
 * - `ignoreIntrospection` stays on (GraphiQL's own introspection query has depth 21 and cost ~87k), but only
 *   real `__schema` fields are exempt: armor matches the field name and kind, so a fragment or alias named
 *   `__schema` is counted, and `__type(...)` is always counted. Nesting inside `__schema` is bounded by graphql's
 *   MaxIntrospectionDepthRule (in `specifiedRules`), the token limit, and production turns introspection off.
 * - Fragments are expanded at every spread (each spread is counted again, never cached as free), so spreading
 *   one fragment many times costs what it expands to; cycles are refused by NoFragmentCyclesRule.
 * - Depth is field depth: fragments are flattened for it (armor otherwise adds one or two levels per spread
 *   and inline fragment, and the SDK's bulk operations would measure 13). Cost keeps them unflattened, which
 *   overestimates fragment-heavy documents a little (the SDK's most costly operation measures ~1300 of 5000).
 */
export function armorPlugins(limits: QueryLimits): Plugin[] {
  const report = (ctx: ValidationContext | null) => {
    if (ctx) ctx.reportError(queryTooComplex());
    // The token limit runs while parsing, without a validation context: throwing replaces armor's own error.
    else throw queryTooComplex();
  };
  const common = { exposeLimits: false, propagateOnRejection: false, onReject: [report] };
  const { plugins } = new EnvelopArmor({
    // Suggestions are hidden by hideSuggestionsPlugin, which also covers enum values and execution errors.
    blockFieldSuggestion: { enabled: false },
    maxTokens: { ...common, n: limits.maxTokens },
    maxDirectives: { ...common, n: limits.maxDirectives },
    maxAliases: { ...common, n: limits.maxAliases },
    costLimit: { ...common, maxCost: limits.maxCost, ignoreIntrospection: true, flattenFragments: false },
    maxDepth: { ...common, n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true },
  }).protect();
  return [...(plugins as Plugin[]), introspectionDepthPlugin()];
}

/** graphql's MaxIntrospectionDepthRule (`__Type.fields.type.fields…` cycles), answered like every other limit. */
function IntrospectionTooDeepRule(context: ValidationContext): ASTVisitor {
  const reporting = Object.create(context, { reportError: { value: () => context.reportError(queryTooComplex()) } });
  return MaxIntrospectionDepthRule(reporting as ValidationContext);
}

function introspectionDepthPlugin(): Plugin {
  return {
    onValidate({ params }) {
      const rules = params.rules as unknown[] | undefined;
      const at = rules?.indexOf(MaxIntrospectionDepthRule) ?? -1;
      if (at >= 0) rules!.splice(at, 1, IntrospectionTooDeepRule);
    },
  };
}

/** Refuses `__schema` and `__type` (not `__typename`) during validation. */
export function disableIntrospectionPlugin(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}

const stripSuggestions = (errors: readonly GraphQLError[]) =>
  errors.map((e) => {
    if (!e.message.includes('Did you mean')) return e;
    return new GraphQLError(stripDidYouMean(e.message), {
      nodes: e.nodes,
      source: e.source,
      positions: e.positions,
      path: e.path,
      originalError: e.originalError,
      extensions: e.extensions,
    });
  });

/**
 * Without introspection, "Did you mean …" would still leak field, argument and enum names one typo at a time.
 * Removed from validation errors and from execution errors (variable coercion) on both transports.
 */
export function hideSuggestionsPlugin(): Plugin {
  const onResult = ({ result, setResult }: { result: unknown; setResult: (r: ExecutionResult) => void }) => {
    const r = result as ExecutionResult;
    if (r && !(Symbol.asyncIterator in r) && r.errors?.length) setResult({ ...r, errors: stripSuggestions(r.errors) });
  };
  return {
    onValidate: () => ({ valid, result, setResult }) => {
      if (!valid) setResult(stripSuggestions(result as readonly GraphQLError[]));
    },
    onExecute: () => ({ onExecuteDone: onResult as never }),
    onSubscribe: () => ({ onSubscribeResult: onResult as never }),
  };
}
