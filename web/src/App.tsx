import { useEffect, useRef } from 'react';
import { graphql } from './gql';
import { request } from './lib/api';
import { closeLive, useConnectionStatus, useLiveConnection } from './lib/live';
import { canWatch, OrgProvider, useOrg } from './lib/org';
import { Link, navigate, useLocation } from './lib/router';
import { clearSession, useSession } from './lib/session';
import { SignInPage } from './pages/SignIn';
import { CredentialsPage } from './pages/Credentials';
import { CredentialPage } from './pages/Credential';
import { RequestsPage } from './pages/Requests';
import { ApprovalsPage } from './pages/Approvals';
import { AccessFeedPage } from './pages/AccessFeed';
import { AuditPage } from './pages/Audit';
import { AdminPage } from './pages/Admin';
import { SecurityPage } from './pages/Security';
import { SessionsPage } from './pages/Sessions';

const SignOut = graphql(`
  mutation ShellSignOut {
    signOut
  }
`);

export function App() {
  const session = useSession();
  const { path, href } = useLocation();
  // No session: every page but sign-in goes there, remembering where it was.
  useEffect(() => {
    if (!session && path !== '/signin') navigate(`/signin?next=${encodeURIComponent(href)}`, { replace: true });
    if (!session) closeLive();
  }, [session, path, href]);
  if (!session || path === '/signin') return <SignInPage />;
  return (
    <OrgProvider>
      <Shell />
    </OrgProvider>
  );
}

const NAV = [
  { to: '/credentials', label: 'Credentials', testid: 'nav-credentials' },
  { to: '/requests', label: 'My requests', testid: 'nav-requests' },
  { to: '/approvals', label: 'Approvals', testid: 'nav-approvals' },
  { to: '/feed', label: 'Access feed', testid: 'nav-access-feed', watchers: true },
  { to: '/audit', label: 'Audit', testid: 'nav-audit', watchers: true },
  { to: '/sessions', label: 'Sessions', testid: 'nav-sessions', recordings: true },
  { to: '/admin', label: 'Administration', testid: 'nav-admin', admins: true },
  { to: '/security', label: 'Security', testid: 'nav-security' },
];

function Shell() {
  const { path } = useLocation();
  const { orgs, org, setOrg, user } = useOrg();
  useLiveConnection();
  const status = useConnectionStatus();
  const main = useRef<HTMLElement>(null);
  useEffect(() => {
    if (path === '/') navigate('/credentials', { replace: true });
  }, [path]);
  // Moves focus to the page on navigation, so keyboard and screen-reader users start at its heading.
  useEffect(() => {
    main.current?.focus({ preventScroll: true });
  }, [path]);
  const signOut = async () => {
    try {
      await request(SignOut, {});
    } catch {
      // Already invalid: signing out locally is all that is left to do.
    }
    clearSession();
    navigate('/signin');
  };
  const visible = NAV.filter(
    (n) =>
      (!n.watchers || canWatch(org?.viewerRole)) &&
      (!n.admins || org?.viewerRole === 'ADMIN') &&
      (!n.recordings || org?.viewerRole === 'ADMIN' || org?.viewerRole === 'AUDITOR'),
  );
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">vaultgate</span>
        <nav aria-label="Main">
          <ul>
            {visible.map((n) => (
              <li key={n.to}>
                <Link to={n.to} data-testid={n.testid} aria-current={path.startsWith(n.to) ? 'page' : undefined}>
                  {n.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="top-right">
          <label className="org-switch">
            <span className="sr-only">Organization</span>
            <select data-testid="org-switcher" value={org?.id ?? ''} onChange={(e) => setOrg(e.target.value)}>
              {orgs.map((o) => (
                <option key={o.id} value={o.id}>
                  {o.name}
                </option>
              ))}
            </select>
          </label>
          <span className={`status status-${status}`} data-testid="connection-status" role="status" aria-label={`Live updates: ${status}`}>
            {status}
          </span>
          <span className="who" title={user?.email ?? ''}>
            {user?.name ?? user?.email}
          </span>
          <button type="button" className="link" onClick={signOut} data-testid="signout-button">
            Sign out
          </button>
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        <Page path={path} />
      </main>
    </div>
  );
}

function Page({ path }: { path: string }) {
  const { org, loading } = useOrg();
  // One's own sign-in protection needs no organization (and must work for someone asked to enroll a factor).
  if (path.startsWith('/security')) return <SecurityPage />;
  if (!org) return loading ? <p>Loading…</p> : <p>You are not a member of any organization yet.</p>;
  const credential = /^\/credentials\/([^/]+)$/.exec(path);
  if (credential) return <CredentialPage id={decodeURIComponent(credential[1])} />;
  if (path.startsWith('/credentials')) return <CredentialsPage />;
  if (path.startsWith('/requests')) return <RequestsPage />;
  if (path.startsWith('/approvals')) return <ApprovalsPage />;
  if (path.startsWith('/feed')) return <AccessFeedPage />;
  if (path.startsWith('/audit')) return <AuditPage />;
  if (path.startsWith('/sessions')) return <SessionsPage />;
  if (path.startsWith('/admin')) return <AdminPage />;
  return (
    <section>
      <h1>Not found</h1>
      <p>
        There is no page at this address. <Link to="/credentials">Go to credentials</Link>.
      </p>
    </section>
  );
}
