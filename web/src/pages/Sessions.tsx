import { useEffect, useMemo, useRef, useState } from 'react';
import { graphql } from '../gql';
import { request, useQuery } from '../lib/api';
import { when, words } from '../lib/format';
import { useSubscription } from '../lib/live';
import { useOrg } from '../lib/org';

const OrgSessions = graphql(`
  query OrgSessions($id: ID!) {
    organization(id: $id) {
      id
      accessSessions(first: 50) {
        totalCount
        edges {
          node {
            id
            state
            startedAt
            endedAt
            endReason
            clientAddress
            request {
              id
              credentialName
              requester {
                id
                email
              }
            }
          }
        }
      }
    }
  }
`);

const Recording = graphql(`
  query SessionReplay($id: ID!) {
    sessionRecording(id: $id) {
      __typename
      ... on SessionRecording {
        asciicast
        sha256
      }
      ... on Error {
        message
      }
    }
  }
`);

const Activity = graphql(`
  subscription SessionWatchLive($sessionId: ID!) {
    sessionActivity(sessionId: $sessionId) {
      time
      kind
      data
      endReason
    }
  }
`);

type Cast = { duration: number; events: [number, string, string][] };

/** asciicast v2 text → its events (the header line is skipped; a line that does not parse is ignored). */
function parseCast(text: string): Cast {
  const events: [number, string, string][] = [];
  for (const line of text.split('\n').slice(1)) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as [number, string, string];
      if (Array.isArray(e) && typeof e[0] === 'number') events.push(e);
    } catch {
      // not an event
    }
  }
  return { duration: events.at(-1)?.[0] ?? 0, events };
}

/** Terminal output as plain text: escape sequences removed, carriage returns folded. */
function plain(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '').replace(/\x1b\][^\x07]*\x07/g, '').replace(/\r\n/g, '\n').replace(/\r/g, '');
}

type View = { kind: 'replay' | 'live'; id: string } | null;

export function SessionsPage() {
  const { org } = useOrg();
  const list = useQuery(OrgSessions, { id: org!.id });
  const [view, setView] = useState<View>(null);
  const sessions = list.data?.organization?.accessSessions.edges.map((e) => e.node) ?? [];
  return (
    <section aria-labelledby="sessions-title">
      <h1 id="sessions-title">Sessions</h1>
      <p className="muted">Recorded SSH sessions in {org!.name}, newest first. Replays and live views are audited.</p>
      {list.error && <p role="alert">{list.error.message}</p>}
      <div className="table-wrap" tabIndex={0} role="region" aria-label="Sessions">
        <table data-testid="sessions-table">
          <thead>
            <tr>
              <th scope="col">Account</th>
              <th scope="col">Requester</th>
              <th scope="col">State</th>
              <th scope="col">Started</th>
              <th scope="col">Ended</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {sessions.map((s) => (
              <tr key={s.id} data-testid="session-row" data-session-id={s.id}>
                <td>{s.request.credentialName}</td>
                <td>{s.request.requester?.email ?? '—'}</td>
                <td>
                  {words(s.state)}
                  {s.endReason ? ` (${words(s.endReason)})` : ''}
                </td>
                <td>{when(s.startedAt)}</td>
                <td>{when(s.endedAt)}</td>
                <td>
                  {s.state === 'ENDED' && s.startedAt && (
                    <button type="button" data-testid="session-replay" onClick={() => setView({ kind: 'replay', id: s.id })}>
                      Replay
                    </button>
                  )}
                  {s.state === 'ACTIVE' && (
                    <button type="button" data-testid="session-watch" onClick={() => setView({ kind: 'live', id: s.id })}>
                      Watch live
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {sessions.length === 0 && !list.loading && <p data-testid="sessions-empty">No sessions yet.</p>}
      {view?.kind === 'replay' && <Player key={view.id} id={view.id} />}
      {view?.kind === 'live' && <LiveView key={view.id} id={view.id} />}
    </section>
  );
}

function Player({ id }: { id: string }) {
  const [cast, setCast] = useState<Cast | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [position, setPosition] = useState(0);
  const [playing, setPlaying] = useState(false);
  useEffect(() => {
    request(Recording, { id })
      .then((r) => {
        const rec = r.sessionRecording;
        if (rec.__typename === 'SessionRecording') {
          setCast(parseCast(rec.asciicast));
          setPlaying(true);
        } else setError('message' in rec ? rec.message : 'The recording is not available.');
      })
      .catch((e: Error) => setError(e.message));
  }, [id]);
  const last = useRef(0);
  useEffect(() => {
    if (!playing || !cast) return;
    last.current = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      const step = (now - last.current) / 1000;
      last.current = now;
      setPosition((p) => {
        const next = Math.min(p + step, cast.duration);
        if (next >= cast.duration) setPlaying(false);
        return next;
      });
    }, 50);
    return () => clearInterval(timer);
  }, [playing, cast]);
  const output = useMemo(
    () => (cast ? plain(cast.events.filter((e) => e[1] === 'o' && e[0] <= position).map((e) => e[2]).join('')) : ''),
    [cast, position],
  );
  return (
    <section aria-labelledby="player-title" data-testid="session-player">
      <h2 id="player-title">Replay</h2>
      {error && (
        <p role="alert" data-testid="player-error">
          {error}
        </p>
      )}
      {cast && (
        <>
          <div className="filters">
            <button
              type="button"
              data-testid="player-toggle"
              onClick={() => {
                if (!playing && position >= cast.duration) setPosition(0);
                setPlaying(!playing);
              }}
            >
              {playing ? 'Pause' : 'Play'}
            </button>
            <button type="button" data-testid="player-end" onClick={() => { setPlaying(false); setPosition(cast.duration); }}>
              Show all
            </button>
            <span data-testid="player-time" aria-live="off">
              {position.toFixed(1)} s / {cast.duration.toFixed(1)} s
            </span>
          </div>
          <pre className="terminal" data-testid="player-output" tabIndex={0} aria-label="Session output">
            {output}
          </pre>
        </>
      )}
    </section>
  );
}

function LiveView({ id }: { id: string }) {
  const [output, setOutput] = useState('');
  const [ended, setEnded] = useState<string | null>(null);
  useSubscription(
    Activity,
    ended === null ? { sessionId: id } : null,
    (d) => {
      const e = d.sessionActivity;
      if (e.kind === 'o') setOutput((o) => (o + e.data).slice(-200_000));
      if (e.kind === 'end') setEnded(e.endReason ?? e.data);
    },
    () => null,
  );
  return (
    <section aria-labelledby="live-title" data-testid="session-live">
      <h2 id="live-title">Live</h2>
      <p role="status" data-testid="live-status">
        {ended === null ? 'Watching: output appears as it happens.' : `The session ended (${words(ended)}).`}
      </p>
      <pre className="terminal" data-testid="live-output" tabIndex={0} aria-label="Live session output">
        {plain(output)}
      </pre>
    </section>
  );
}
