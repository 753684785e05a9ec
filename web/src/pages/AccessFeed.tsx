import { useRef, useState } from 'react';
import { graphql } from '../gql';
import type { AccessFeedLiveSubscription, AccessSurface } from '../gql/graphql';
import { when, words } from '../lib/format';
import { useConnectionStatus, useSubscription } from '../lib/live';
import { useOrg } from '../lib/org';
import { Link } from '../lib/router';

const AccessFeedLive = graphql(`
  subscription AccessFeedLive($filter: PasswordAccessFilter, $after: String) {
    passwordAccessed(filter: $filter, after: $after) {
      cursor
      accessRecord {
        id
        surface
        field
        version
        at
        purpose
        clientAddress
        credentialName
      }
      credential {
        id
        name
        restricted
      }
      actor {
        id
        email
        name
      }
    }
  }
`);

type Event = AccessFeedLiveSubscription['passwordAccessed'];
const SURFACES: AccessSurface[] = ['REVEAL', 'COPY', 'AUTOFILL', 'EXPORT', 'EXPORT_PDF', 'PRINT'];
const MAX_ITEMS = 500;

export function AccessFeedPage() {
  const { org } = useOrg();
  const status = useConnectionStatus();
  const [surface, setSurface] = useState<AccessSurface | ''>('');
  const [text, setText] = useState('');
  const [items, setItems] = useState<Event[]>([]);
  // Ids already shown: a replay after a reconnect that overlaps what arrived live is dropped here.
  const seen = useRef(new Set<string>());
  const filter = { organizationId: org!.id, ...(surface ? { surfaces: [surface] } : {}) };
  const filterKey = JSON.stringify(filter);
  const lastKey = useRef(filterKey);
  if (lastKey.current !== filterKey) {
    lastKey.current = filterKey;
    seen.current = new Set();
    if (items.length) setItems([]);
  }
  useSubscription(
    AccessFeedLive,
    { filter, after: null },
    (d) => {
      const e = d.passwordAccessed;
      if (seen.current.has(e.accessRecord.id)) return;
      seen.current.add(e.accessRecord.id);
      setItems((prev) => [e, ...prev].slice(0, MAX_ITEMS));
    },
    (d) => d.passwordAccessed.cursor,
  );
  const needle = text.trim().toLowerCase();
  const shown = needle
    ? items.filter((e) => `${e.accessRecord.credentialName} ${e.actor?.email ?? ''} ${e.actor?.name ?? ''}`.toLowerCase().includes(needle))
    : items;
  return (
    <section aria-labelledby="feed-title">
      <h1 id="feed-title">Access feed</h1>
      <p className="muted">
        Every reveal, copy and export in {org!.name}, as it happens. The connection is <strong>{status}</strong>
        {status === 'reconnecting' ? ': missed accesses will follow once it is back.' : '.'}
      </p>
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          How
          <select value={surface} onChange={(e) => setSurface(e.target.value as AccessSurface | '')} data-testid="feed-surface">
            <option value="">Any</option>
            {SURFACES.map((s) => (
              <option key={s} value={s}>
                {words(s)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Credential or person
          <input type="search" value={text} onChange={(e) => setText(e.target.value)} data-testid="feed-search" />
        </label>
      </form>
      {shown.length === 0 && <p>No accesses since this page opened.</p>}
      <ol className="feed" aria-live="polite" aria-relevant="additions">
        {shown.map((e) => (
          <li key={e.accessRecord.id} data-testid="access-feed-item" data-credential-id={e.credential?.id ?? ''} data-surface={e.accessRecord.surface} className="card row">
            <span className={`surface surface-${e.accessRecord.surface.toLowerCase()}`}>{words(e.accessRecord.surface)}</span>{' '}
            {e.credential ? <Link to={`/credentials/${encodeURIComponent(e.credential.id)}`}>{e.accessRecord.credentialName}</Link> : e.accessRecord.credentialName}
            {e.credential?.restricted && <span className="badge">restricted</span>}
            <span className="muted">
              {' '}
              by {e.actor?.name ?? e.actor?.email ?? 'an API key'} · {words(e.accessRecord.field)} v{e.accessRecord.version} · {when(e.accessRecord.at)}
              {e.accessRecord.clientAddress ? ` · ${e.accessRecord.clientAddress}` : ''}
            </span>
          </li>
        ))}
      </ol>
    </section>
  );
}
