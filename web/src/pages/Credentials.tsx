import { useEffect, useState } from 'react';
import { graphql } from '../gql';
import type { CredentialFilter, CredentialKind, CredentialListQuery } from '../gql/graphql';
import { ErrorText } from '../components/ErrorText';
import { request, useQuery } from '../lib/api';
import { when, words } from '../lib/format';
import { useOrg } from '../lib/org';
import { Link } from '../lib/router';

const CredentialList = graphql(`
  query CredentialList($filter: CredentialFilter!, $first: Int, $after: String) {
    credentials(filter: $filter, first: $first, after: $after, orderBy: { field: NAME, direction: ASC }) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        cursor
        node {
          id
          name
          kind
          username
          url
          restricted
          hasOtp
          archivedAt
          updatedAt
          category {
            id
            name
          }
          folder {
            id
            path
          }
        }
      }
    }
  }
`);

const CredentialSidebar = graphql(`
  query CredentialSidebar($id: ID!) {
    organization(id: $id) {
      id
      categories {
        id
        name
        credentialCount
      }
      folders {
        id
        name
        credentialCount
        children {
          id
          name
          credentialCount
        }
      }
    }
  }
`);

const SubFolders = graphql(`
  query SubFolders($id: ID!, $parentId: ID) {
    organization(id: $id) {
      id
      folders(parentId: $parentId) {
        id
        name
        credentialCount
        children {
          id
        }
      }
    }
  }
`);

const PAGE = 25;
type Row = NonNullable<CredentialListQuery['credentials']['edges'][number]['node']>;
type FolderItem = { id: string; name: string; credentialCount: number; children: { id: string }[] };

function FolderTree({ orgId, folders, selected, onSelect }: { orgId: string; folders: FolderItem[]; selected: string | null; onSelect: (id: string | null) => void }) {
  return (
    <ul className="tree" role="group">
      {folders.map((f) => (
        <FolderNode key={f.id} orgId={orgId} folder={f} selected={selected} onSelect={onSelect} />
      ))}
    </ul>
  );
}

function FolderNode({ orgId, folder, selected, onSelect }: { orgId: string; folder: FolderItem; selected: string | null; onSelect: (id: string | null) => void }) {
  const [open, setOpen] = useState(false);
  const [children, setChildren] = useState<FolderItem[] | null>(null);
  const toggle = async () => {
    if (!open && children === null) {
      const r = await request(SubFolders, { id: orgId, parentId: folder.id });
      setChildren(r.organization?.folders ?? []);
    }
    setOpen(!open);
  };
  return (
    <li>
      {folder.children.length > 0 ? (
        <button type="button" className="twisty" aria-expanded={open} aria-label={`${open ? 'Collapse' : 'Expand'} ${folder.name}`} onClick={toggle}>
          {open ? '▾' : '▸'}
        </button>
      ) : (
        <span className="twisty" aria-hidden="true" />
      )}
      <button type="button" className={`link${selected === folder.id ? ' selected' : ''}`} aria-pressed={selected === folder.id} onClick={() => onSelect(selected === folder.id ? null : folder.id)}>
        {folder.name} <span className="muted">({folder.credentialCount})</span>
      </button>
      {open && children && <FolderTree orgId={orgId} folders={children} selected={selected} onSelect={onSelect} />}
    </li>
  );
}

export function CredentialsPage() {
  const { org } = useOrg();
  const orgId = org!.id;
  const [search, setSearch] = useState('');
  const [typed, setTyped] = useState('');
  const [kind, setKind] = useState<CredentialKind | ''>('');
  const [restricted, setRestricted] = useState<'' | 'yes' | 'no'>('');
  const [archived, setArchived] = useState(false);
  const [categoryId, setCategoryId] = useState<string | null>(null);
  const [folderId, setFolderId] = useState<string | null>(null);
  // Cursor paging: the cursors of the pages before this one, so "Previous" goes back without offsets.
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  useEffect(() => {
    const t = setTimeout(() => setSearch(typed.trim()), 250);
    return () => clearTimeout(t);
  }, [typed]);
  const filter: CredentialFilter = {
    organizationId: orgId,
    ...(search ? { search } : {}),
    ...(kind ? { kinds: [kind] } : {}),
    ...(restricted ? { restricted: restricted === 'yes' } : {}),
    ...(archived ? { archived: true } : {}),
    ...(categoryId ? { categoryIds: [categoryId] } : {}),
    ...(folderId ? { folderId, includeSubfolders: true } : {}),
  };
  const filterKey = JSON.stringify(filter);
  useEffect(() => setCursors([null]), [filterKey]);
  const after = cursors.at(-1) ?? null;
  const list = useQuery(CredentialList, { filter, first: PAGE, after });
  const side = useQuery(CredentialSidebar, { id: orgId });
  const conn = list.data?.credentials;
  const rows = (conn?.edges ?? []).map((e) => e.node).filter((n): n is Row => !!n);
  return (
    <section aria-labelledby="credentials-title">
      <h1 id="credentials-title">Credentials</h1>
      <div className="split">
        <aside className="sidebar" aria-label="Folders and categories">
          <h2>Folders</h2>
          <button type="button" className={`link${folderId === null ? ' selected' : ''}`} aria-pressed={folderId === null} onClick={() => setFolderId(null)}>
            All folders
          </button>
          {side.data?.organization && (
            <FolderTree orgId={orgId} folders={side.data.organization.folders} selected={folderId} onSelect={setFolderId} />
          )}
          <h2>Categories</h2>
          <ul className="plain">
            <li>
              <button type="button" className={`link${categoryId === null ? ' selected' : ''}`} aria-pressed={categoryId === null} onClick={() => setCategoryId(null)}>
                All categories
              </button>
            </li>
            {side.data?.organization?.categories.map((c) => (
              <li key={c.id}>
                <button type="button" className={`link${categoryId === c.id ? ' selected' : ''}`} aria-pressed={categoryId === c.id} onClick={() => setCategoryId(categoryId === c.id ? null : c.id)}>
                  {c.name} <span className="muted">({c.credentialCount})</span>
                </button>
              </li>
            ))}
          </ul>
        </aside>
        <div className="content">
          <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
            <label>
              Search
              <input type="search" data-testid="credential-search" value={typed} onChange={(e) => setTyped(e.target.value)} placeholder="Name, username, URL…" />
            </label>
            <label>
              Kind
              <select value={kind} onChange={(e) => setKind(e.target.value as CredentialKind | '')}>
                <option value="">Any</option>
                <option value="PASSWORD">Password</option>
                <option value="SSH_KEY">SSH key</option>
                <option value="API_KEY">API key</option>
              </select>
            </label>
            <label>
              Restricted
              <select value={restricted} onChange={(e) => setRestricted(e.target.value as '' | 'yes' | 'no')}>
                <option value="">Any</option>
                <option value="yes">Restricted only</option>
                <option value="no">Unrestricted only</option>
              </select>
            </label>
            <label className="check">
              <input type="checkbox" checked={archived} onChange={(e) => setArchived(e.target.checked)} /> Archived
            </label>
          </form>
          <ErrorText error={list.error} />
          <p className="muted" aria-live="polite">
            {conn ? `${conn.totalCount} credential${conn.totalCount === 1 ? '' : 's'}` : list.loading ? 'Loading…' : ''}
          </p>
          <div className="table-wrap" tabIndex={0} role="region" aria-label="Credential list">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Username</th>
                  <th scope="col" className="wide">Folder</th>
                  <th scope="col" className="wide">Category</th>
                  <th scope="col" className="wide">Updated</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((c) => (
                  <tr key={c.id} data-testid="credential-row" data-credential-id={c.id}>
                    <td>
                      <Link to={`/credentials/${encodeURIComponent(c.id)}`}>{c.name}</Link>
                      {c.restricted && <span className="badge">restricted</span>}
                      {c.hasOtp && <span className="badge soft">TOTP</span>}
                      {c.archivedAt && <span className="badge soft">archived</span>}
                      <div className="muted small">{words(c.kind)}</div>
                    </td>
                    <td>{c.username ?? '—'}</td>
                    <td className="wide">{c.folder?.path ?? '—'}</td>
                    <td className="wide">{c.category?.name ?? '—'}</td>
                    <td className="wide">{when(c.updatedAt)}</td>
                  </tr>
                ))}
                {conn && rows.length === 0 && (
                  <tr>
                    <td colSpan={5}>No credentials match.</td>
                  </tr>
                )}
              </tbody>
            </table>
          </div>
          <nav className="pager" aria-label="Pages">
            <button type="button" disabled={cursors.length <= 1} onClick={() => setCursors(cursors.slice(0, -1))}>
              Previous
            </button>
            <span className="muted">Page {cursors.length}</span>
            <button
              type="button"
              data-testid="next-page"
              disabled={!conn?.pageInfo.hasNextPage}
              onClick={() => conn?.pageInfo.endCursor && setCursors([...cursors, conn.pageInfo.endCursor])}
            >
              Next
            </button>
          </nav>
        </div>
      </div>
    </section>
  );
}
