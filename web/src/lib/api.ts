import { useCallback, useEffect, useRef, useState } from 'react';
import type { TypedDocumentString } from '../gql/graphql';
import { expireSession, getSession } from './session';

/** A GraphQL or HTTP failure that is not a typed error of the schema (FORBIDDEN, UNAUTHENTICATED, network). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string | null,
  ) {
    super(message);
  }
}

type Response<R> = { data?: R | null; errors?: { message: string; extensions?: { code?: string } }[] };

/** The dashboard's whole HTTP client: one typed document, its variables, the session's bearer token. */
export async function request<R, V>(doc: TypedDocumentString<R, V>, variables?: V): Promise<R> {
  const session = getSession();
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' };
  if (session) headers.authorization = `Bearer ${session.token}`;
  let res: globalThis.Response;
  try {
    res = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query: doc.toString(), variables: variables ?? {} }) });
  } catch {
    throw new ApiError('The server cannot be reached. Check your connection and try again.', 'NETWORK');
  }
  let body: Response<R>;
  try {
    body = (await res.json()) as Response<R>;
  } catch {
    throw new ApiError(`The server answered ${res.status} without a GraphQL response.`, 'HTTP');
  }
  const first = body.errors?.[0];
  if (first) {
    const code = first.extensions?.code ?? null;
    if (code === 'UNAUTHENTICATED' && session) expireSession();
    throw new ApiError(first.message, code);
  }
  if (!body.data) throw new ApiError(`The server answered ${res.status} without data.`, 'HTTP');
  return body.data;
}

export type QueryState<R> = { data: R | null; error: ApiError | null; loading: boolean; refetch: () => Promise<void> };

/** Runs a query when its variables change (compared as JSON) and on refetch(). */
export function useQuery<R, V>(doc: TypedDocumentString<R, V>, variables: V | null): QueryState<R> {
  const [data, setData] = useState<R | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(variables !== null);
  const key = variables === null ? null : JSON.stringify(variables);
  const generation = useRef(0);
  const run = useCallback(async () => {
    if (key === null) return;
    const mine = ++generation.current;
    setLoading(true);
    try {
      const r = await request(doc, JSON.parse(key) as V);
      if (mine === generation.current) {
        setData(r);
        setError(null);
      }
    } catch (e) {
      if (mine === generation.current) setError(e instanceof ApiError ? e : new ApiError(String(e), null));
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  }, [doc, key]);
  useEffect(() => {
    void run();
  }, [run]);
  return { data, error, loading, refetch: run };
}
