import { useState } from 'react';
import { graphql } from '../gql';
import { ErrorText } from './ErrorText';
import { ApiError, request, useQuery } from '../lib/api';

const Rules = graphql(`
  query AdminSignInRules($id: ID!) {
    organization(id: $id) {
      id
      requireMfa
      requireStepUp
      allowPasswordSignIn
    }
    ssoEnabled
  }
`);

const SetRules = graphql(`
  mutation AdminSetSignInRules($input: SetOrganizationSecurityInput!) {
    setOrganizationSecurity(input: $input) {
      id
      requireMfa
      requireStepUp
      allowPasswordSignIn
    }
  }
`);

type Rule = 'requireMfa' | 'requireStepUp' | 'allowPasswordSignIn';

const LABELS: { rule: Rule; testid: string; label: string; hint: string }[] = [
  { rule: 'requireMfa', testid: 'security-require-mfa', label: 'Require a second factor', hint: 'Members without a passkey or authenticator app can only enroll one.' },
  { rule: 'requireStepUp', testid: 'security-require-step-up', label: 'Require step-up', hint: 'Restricted reveals and access decisions need a recently verified factor.' },
  { rule: 'allowPasswordSignIn', testid: 'security-allow-password', label: 'Allow password sign-in', hint: 'Off: members sign in only through single sign-on (system administrators keep their password).' },
];

/** An organization's sign-in rules (ADMIN): one checkbox per rule, saved at once and audited by the server. */
export function SignInRules({ organizationId }: { organizationId: string }) {
  const q = useQuery(Rules, { id: organizationId });
  const [error, setError] = useState<ApiError | null>(null);
  const org = q.data?.organization;
  if (!org) return <ErrorText error={q.error} />;
  const set = async (rule: Rule, value: boolean) => {
    setError(null);
    try {
      await request(SetRules, { input: { organizationId, [rule]: value } });
      await q.refetch();
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(String(e), null));
    }
  };
  return (
    <fieldset className="card" data-testid="signin-rules">
      <legend>Sign-in rules</legend>
      {LABELS.filter((l) => l.rule !== 'allowPasswordSignIn' || q.data?.ssoEnabled || !org.allowPasswordSignIn).map((l) => (
        <p key={l.rule}>
          <label>
            <input type="checkbox" data-testid={l.testid} checked={org[l.rule]} onChange={(e) => void set(l.rule, e.target.checked)} /> {l.label}
          </label>{' '}
          <span className="muted">{l.hint}</span>
        </p>
      ))}
      <ErrorText error={error} />
    </fieldset>
  );
}
