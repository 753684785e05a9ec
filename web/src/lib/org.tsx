import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { graphql } from '../gql';
import type { ShellViewerQuery } from '../gql/graphql';
import { useQuery } from './api';
import { storeOrganization, storedOrganization } from './session';

const ShellViewer = graphql(`
  query ShellViewer {
    viewer {
      kind
      user {
        id
        email
        name
        isSystemAdmin
      }
    }
    organizations(first: 100) {
      edges {
        node {
          id
          name
          viewerRole
        }
      }
    }
  }
`);

export type Org = NonNullable<ShellViewerQuery['organizations']['edges'][number]['node']>;
export type Role = NonNullable<Org['viewerRole']>;

type OrgState = {
  user: NonNullable<NonNullable<ShellViewerQuery['viewer']>['user']> | null;
  orgs: Org[];
  org: Org | null;
  setOrg: (id: string) => void;
  loading: boolean;
};

const OrgContext = createContext<OrgState>({ user: null, orgs: [], org: null, setOrg: () => undefined, loading: true });

export function OrgProvider({ children }: { children: ReactNode }) {
  const { data, loading } = useQuery(ShellViewer, {});
  const orgs = (data?.organizations.edges ?? []).map((e) => e.node).filter((n): n is Org => !!n);
  const [orgId, setOrgId] = useState<string | null>(storedOrganization());
  useEffect(() => {
    if (orgs.length > 0 && !orgs.some((o) => o.id === orgId)) setOrgId(orgs[0].id);
  }, [orgs, orgId]);
  const org = orgs.find((o) => o.id === orgId) ?? null;
  const setOrg = (id: string) => {
    storeOrganization(id);
    setOrgId(id);
  };
  return <OrgContext.Provider value={{ user: data?.viewer?.user ?? null, orgs, org, setOrg, loading }}>{children}</OrgContext.Provider>;
}

export const useOrg = () => useContext(OrgContext);

/** Roles that may watch accesses and read the audit log. */
export const canWatch = (role: Role | null | undefined) => role === 'ADMIN' || role === 'MANAGER' || role === 'AUDITOR';
