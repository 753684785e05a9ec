import { useState, type FormEvent } from 'react';
import { graphql } from '../gql';
import type { SignInPageMutation } from '../gql/graphql';
import { ErrorText, fieldMessage } from '../components/ErrorText';
import { ApiError, request } from '../lib/api';
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
    }
  }
`);

type Refusal = Exclude<SignInPageMutation['signIn'], { __typename: 'SignInPayload' }>;

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
      if (signIn.__typename === 'SignInPayload') {
        setSession({ token: signIn.token, expiresAt: signIn.expiresAt, email: signIn.user.email });
        navigate(next, { replace: true });
      } else setError(signIn);
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(String(err), null));
    } finally {
      setBusy(false);
    }
  };
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
        <button type="submit" data-testid="signin-submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
