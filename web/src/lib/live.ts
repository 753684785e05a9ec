import { useEffect, useRef, useSyncExternalStore } from 'react';
import { createClient, type Client } from 'graphql-ws';
import type { TypedDocumentString } from '../gql/graphql';
import { expireSession, getSession } from './session';

/**
 * One graphql-ws connection per signed-in tab. It reconnects for as long as the page is open; every
 * subscription carries the cursor of the last event it received, so the server replays exactly what was missed
 * (and the dashboard drops anything it already has, by id, in case a replay overlaps).
 */
export type ConnectionStatus = 'connecting' | 'live' | 'reconnecting';

let status: ConnectionStatus = 'connecting';
const statusListeners = new Set<() => void>();
const setStatus = (s: ConnectionStatus) => {
  if (s === status) return;
  status = s;
  statusListeners.forEach((l) => l());
};

let client: Client | null = null;
let clientToken: string | null = null;

// 4401: the session stopped being valid while connected; 4403: connection_init refused (expired token).
const SESSION_ENDED = new Set([4401, 4403]);

function liveClient(): Client | null {
  const session = getSession();
  if (!session) return null;
  if (client && clientToken === session.token) return client;
  void client?.dispose();
  clientToken = session.token;
  setStatus('connecting');
  let everConnected = false;
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
  client = createClient({
    url,
    connectionParams: () => ({ token: getSession()?.token ?? '' }),
    lazy: false,
    retryAttempts: Number.POSITIVE_INFINITY,
    // Short, bounded waits: a restarted server is picked up within a couple of seconds.
    retryWait: (retries) => new Promise((r) => setTimeout(r, Math.min(250 * 2 ** retries, 2000) + Math.random() * 250)),
    shouldRetry: (event) => {
      const code = (event as CloseEvent | undefined)?.code;
      if (code !== undefined && SESSION_ENDED.has(code)) {
        expireSession();
        return false;
      }
      return true;
    },
    onNonLazyError: () => undefined,
    on: {
      connected: () => {
        everConnected = true;
        setStatus('live');
      },
      closed: () => setStatus(everConnected ? 'reconnecting' : 'connecting'),
    },
  });
  return client;
}

/** Opens the tab's connection (once signed in), so the header's status is true on every page. */
export function useLiveConnection() {
  useEffect(() => {
    liveClient();
  }, []);
}

export function closeLive() {
  void client?.dispose();
  client = null;
  clientToken = null;
  setStatus('connecting');
}

export function useConnectionStatus(): ConnectionStatus {
  return useSyncExternalStore(
    (l) => {
      statusListeners.add(l);
      return () => statusListeners.delete(l);
    },
    () => status,
  );
}

type WithCursor = { after?: string | null };

/**
 * Subscribes while the component is mounted. `cursorOf` picks the event's cursor; it is written into the
 * subscription's own variables, which graphql-ws sends again on every reconnect, so the server resumes from it.
 * `key` re-subscribes from scratch when it changes (e.g. a new filter). Subscriptions without a cursor (a live
 * session view) return null from `cursorOf`.
 */
export function useSubscription<R, V extends object>(
  doc: TypedDocumentString<R, V>,
  variables: V | null,
  onData: (data: R) => void,
  cursorOf: (data: R) => string | null | undefined,
) {
  const handler = useRef(onData);
  handler.current = onData;
  const cursor = useRef(cursorOf);
  cursor.current = cursorOf;
  const key = variables === null ? null : JSON.stringify(variables);
  useEffect(() => {
    if (key === null) return;
    const c = liveClient();
    if (!c) return;
    const payload = { query: doc.toString(), variables: JSON.parse(key) as V & WithCursor & Record<string, unknown> };
    const stop = c.subscribe<R>(payload, {
      next: (result) => {
        if (!result.data) return;
        const after = cursor.current(result.data as R);
        if (after) payload.variables.after = after;
        handler.current(result.data as R);
      },
      error: () => undefined,
      complete: () => undefined,
    });
    return () => stop();
  }, [doc, key]);
}
