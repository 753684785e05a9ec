import { useSyncExternalStore } from 'react';

/**
 * The session token lives in sessionStorage (this tab only, gone when the tab closes), never localStorage:
 * see docs/dashboard.md for the threat model. Everything else reads it through this module.
 */
export type Session = { token: string; expiresAt: string; email: string };

const KEY = 'vaultgate.session';
const ORG_KEY = 'vaultgate.organization';
let current: Session | null = read();
let expiredNotice: string | null = null;
const listeners = new Set<() => void>();

function read(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Partial<Session>;
    return typeof s.token === 'string' && typeof s.expiresAt === 'string' && typeof s.email === 'string' ? (s as Session) : null;
  } catch {
    return null;
  }
}

function emit() {
  for (const l of listeners) l();
}

/**
 * The server decides when a session has ended (its clock, not this browser's): an UNAUTHENTICATED answer or a
 * 4401/4403 close ends it here (expireSession).
 */
export function getSession(): Session | null {
  return current;
}

export function setSession(s: Session) {
  current = s;
  expiredNotice = null;
  sessionStorage.setItem(KEY, JSON.stringify(s));
  emit();
}

/** Signed out on purpose: no notice on the sign-in page. */
export function clearSession() {
  current = null;
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(ORG_KEY);
  emit();
}

/** The server refused the token (expired, signed out elsewhere, user disabled): back to sign-in, with a word why. */
export function expireSession() {
  if (!current) return;
  current = null;
  expiredNotice = 'Your session ended. Sign in again to continue where you were.';
  sessionStorage.removeItem(KEY);
  emit();
}

export function takeExpiredNotice(): string | null {
  return expiredNotice;
}

export function useSession(): Session | null {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => current,
  );
}

export function storedOrganization(): string | null {
  return sessionStorage.getItem(ORG_KEY);
}

export function storeOrganization(id: string) {
  sessionStorage.setItem(ORG_KEY, id);
}
