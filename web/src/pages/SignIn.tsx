import { useEffect, useState, type FormEvent } from 'react';
import { graphql } from '../gql';
import type { SignInPageMutation } from '../gql/graphql';
import { ErrorText, fieldMessage, type TypedError } from '../components/ErrorText';
import { assertPasskey, PasskeyCancelled } from '../lib/passkeys';
import { ApiError, request, useQuery } from '../lib/api';
import { navigate, useLocation } from '../lib/router';
import { setSession, takeExpiredNotice, useSession } from '../lib/session';

const SignIn = graphql(`
  mutation SignInPage($input: SignInInput!) {
    signIn(input: $input) {
      __typename
      ... on SignInPayload {
        token
        expiresAt
        user {
          id
          email
        }
      }
      ... on Error {
        message
      }
      ... on ValidationError {
        fieldErrors {
          path
          message
        }
      }
      ... on RateLimitedError {
        retryAfterSeconds
      }
      ... on MfaRequired {
        challengeId
        methods
      }
    }
  }
`);

const CompleteSignIn = graphql(`
  mutation SignInSecondFactor($input: CompleteSignInInput!) {
    completeSignIn(input: $input) {
      __typename
      ... on SignInPayload {
        token
        expiresAt
        user {
          id
          email
        }
      }
      ... on Error {
        message
      }
      ... on ValidationError {
        fieldErrors {
          path
          message
        }
      }
      ... on RateLimitedError {
        retryAfterSeconds
      }
    }
  }
`);

const SsoEnabled = graphql(`
  query SignInSsoEnabled {
    ssoEnabled
  }
`);

const CompleteSso = graphql(`
  mutation SignInCompleteSso($input: CompleteSsoSignInInput!) {
    completeSsoSignIn(input: $input) {
      __typename
      ... on SignInPayload {
        token
        expiresAt
        user {
          id
          email
        }
      }
      ... on MfaRequired {
        challengeId
        methods
      }
      ... on Error {
        message
      }
    }
  }
`);

/** What /auth/oidc/callback's `sso_error` means, in words. */
const SSO_REFUSALS: Record<string, string> = {
  domain_not_allowed: 'Your email address’s domain may not sign in here. Ask an administrator which account to use.',
  email_not_verified: 'The identity provider has not verified your email address, so it cannot be used to sign in here.',
  user_disabled: 'This account is disabled.',
  expired: 'The single sign-on attempt expired or was already used. Try again.',
  provider_error: 'The identity provider could not complete the sign-in. Try again, or ask an administrator.',
  rate_limited: 'Too many sign-in attempts from here. Wait a little and try again.',
  not_configured: 'Single sign-on is not configured on this server.',
};

/**
 * The fragment single sign-on redirected to (`#sso=<code>` or `#sso_error=<reason>`), read once and removed from
 * the address bar at once, so the one-time code is in no history entry, bookmark or screenshot.
 */
let ssoFragment: URLSearchParams | null | undefined;
function takeSsoFragment(): URLSearchParams | null {
  if (ssoFragment === undefined) {
    const hash = new URLSearchParams(location.hash.slice(1));
    ssoFragment = hash.has('sso') || hash.has('sso_error') ? hash : null;
    if (ssoFragment) history.replaceState(null, '', location.pathname + location.search);
  }
  const taken = ssoFragment;
  ssoFragment = null;
  return taken;
}

type Refusal = Exclude<SignInPageMutation['signIn'], { __typename: 'SignInPayload' | 'MfaRequired' }> | TypedError;
type Challenge = { challengeId: string; methods: string[] };
type Signed = { token: string; expiresAt: string; user: { email: string } };

/** Only same-origin paths are followed after sign-in (no open redirect through ?next=). */
function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/signin') ? next : '/credentials';
}

export function SignInPage() {
  const { query } = useLocation();
  const session = useSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Refusal | ApiError | null>(null);
  const [challenge, setChallenge] = useState<Challenge | null>(null);
  const [code, setCode] = useState('');
  const [ssoError, setSsoError] = useState<string | null>(null);
  const sso = useQuery(SsoEnabled, {});
  // After a single-sign-on redirect: exchange the one-time code for a session (once, also under StrictMode).
  useEffect(() => {
    const fragment = takeSsoFragment();
    if (!fragment) return;
    const reason = fragment.get('sso_error');
    if (reason) {
      setSsoError(reason);
      return;
    }
    void run(async () => {
      const { completeSsoSignIn } = await request(CompleteSso, { input: { code: fragment.get('sso') ?? '' } });
      if (completeSsoSignIn.__typename === 'SignInPayload') done(completeSsoSignIn);
      else if (completeSsoSignIn.__typename === 'MfaRequired') setChallenge({ challengeId: completeSsoSignIn.challengeId, methods: completeSsoSignIn.methods });
      else setError(completeSsoSignIn);
    });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  const notice = takeExpiredNotice();
  const next = safeNext(query.get('next'));
  if (session) {
    queueMicrotask(() => navigate(next, { replace: true }));
  }
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { signIn } = await request(SignIn, { input: { email, password } });
      if (signIn.__typename === 'SignInPayload') done(signIn);
      else if (signIn.__typename === 'MfaRequired') setChallenge({ challengeId: signIn.challengeId, methods: signIn.methods });
      else setError(signIn);
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(String(err), null));
    } finally {
      setBusy(false);
    }
  };
  const done = (signed: Signed) => {
    setSession({ token: signed.token, expiresAt: signed.expiresAt, email: signed.user.email });
    navigate(next, { replace: true });
  };
  /** The second step: a passkey assertion, or a code (6 digits) or recovery code typed in. */
  const finish = async (proof: { webauthn?: unknown; code?: string; recoveryCode?: string }) => {
    if (!challenge) return;
    const { completeSignIn } = await request(CompleteSignIn, { input: { challengeId: challenge.challengeId, ...proof } });
    if (completeSignIn.__typename === 'SignInPayload') done(completeSignIn);
    else setError(completeSignIn);
  };
  const run = async (step: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await step();
    } catch (err) {
      if (err instanceof PasskeyCancelled) setError(new ApiError(err.message, 'PASSKEY'));
      else setError(err instanceof ApiError ? err : new ApiError(String(err), null));
    } finally {
      setBusy(false);
    }
  };
  const withPasskey = () =>
    run(async () => {
      const result = await assertPasskey(challenge!.challengeId);
      if ('refused' in result) setError(result.refused ?? null);
      else await finish({ webauthn: result.assertion });
    });
  const submitCode = (e: FormEvent) => {
    e.preventDefault();
    const typed = code.trim();
    void run(() => finish(/^[0-9]{6}$/.test(typed) ? { code: typed } : { recoveryCode: typed }));
  };
  if (challenge) {
    const passkey = challenge.methods.includes('WEBAUTHN');
    const codes = challenge.methods.includes('TOTP') || challenge.methods.includes('RECOVERY_CODE');
    return (
      <main className="signin" id="main">
        <form onSubmit={submitCode} aria-labelledby="signin-title" noValidate data-testid="signin-second-factor">
          <h1 id="signin-title">Confirm it is you</h1>
          <p>One more step: finish signing in with your second factor.</p>
          {passkey && (
            <button type="button" data-testid="signin-passkey" disabled={busy} onClick={() => void withPasskey()}>
              {busy ? 'Waiting for the passkey…' : 'Use a passkey'}
            </button>
          )}
          {codes && (
            <>
              <label htmlFor="signin-code">{challenge.methods.includes('TOTP') ? 'Authenticator code or recovery code' : 'Recovery code'}</label>
              <input
                id="signin-code"
                data-testid="signin-code"
                autoComplete="one-time-code"
                inputMode="text"
                value={code}
                onChange={(e) => setCode(e.target.value)}
              />
              <button type="submit" data-testid="signin-code-submit" disabled={busy || !code.trim()}>
                Continue
              </button>
            </>
          )}
          <ErrorText error={error} />
          <button
            type="button"
            className="link"
            onClick={() => {
              setChallenge(null);
              setCode('');
              setError(null);
            }}
          >
            Start again
          </button>
        </form>
      </main>
    );
  }
  const typed = error && !(error instanceof ApiError) ? error : null;
  const emailError = fieldMessage(typed, 'email');
  const passwordError = fieldMessage(typed, 'password');
  return (
    <main className="signin" id="main">
      <form onSubmit={submit} aria-labelledby="signin-title" noValidate>
        <h1 id="signin-title">Sign in to vaultgate</h1>
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <label htmlFor="signin-email">Email</label>
        <input
          id="signin-email"
          data-testid="signin-email"
          type="email"
          autoComplete="username"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          aria-invalid={!!emailError}
          aria-describedby={emailError ? 'signin-email-error' : undefined}
        />
        {emailError && (
          <p className="field-error" id="signin-email-error">
            {emailError}
          </p>
        )}
        <label htmlFor="signin-password">Password</label>
        <input
          id="signin-password"
          data-testid="signin-password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          aria-invalid={!!passwordError}
          aria-describedby={passwordError ? 'signin-password-error' : undefined}
        />
        {passwordError && (
          <p className="field-error" id="signin-password-error">
            {passwordError}
          </p>
        )}
        <ErrorText error={error} />
        {ssoError && (
          <div role="alert" className="error" data-testid="sso-error" data-reason={ssoError}>
            <strong>Single sign-on refused:</strong> {SSO_REFUSALS[ssoError] ?? SSO_REFUSALS.provider_error}
          </div>
        )}
        <button type="submit" data-testid="signin-submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        {sso.data?.ssoEnabled && (
          <p>
            <a href={`/auth/oidc/start?next=${encodeURIComponent(next)}`} data-testid="signin-sso">
              Sign in with single sign-on
            </a>
          </p>
        )}
      </form>
    </main>
  );
}
