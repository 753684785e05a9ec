import { useState, type FormEvent } from 'react';
import { graphql } from '../gql';
import { ErrorText, type TypedError } from '../components/ErrorText';
import { ApiError, request, useQuery } from '../lib/api';
import { when } from '../lib/format';
import { assertPasskey, createPasskey, PasskeyCancelled } from '../lib/passkeys';
import { QrCode } from '../components/QrCode';

const Factors = graphql(`
  query SecurityFactors {
    secondFactors {
      factors {
        id
        kind
        name
        enrolledAt
        lastUsedAt
        transports
      }
      recoveryCodesLeft
      sessionAuthMethod
    }
  }
`);

const StartRegistration = graphql(`
  mutation SecurityStartPasskeyRegistration {
    startPasskeyRegistration {
      __typename
      ... on PasskeyOptionsPayload {
        options
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
    }
  }
`);

const FinishRegistration = graphql(`
  mutation SecurityFinishPasskeyRegistration($input: FinishPasskeyRegistrationInput!) {
    finishPasskeyRegistration(input: $input) {
      __typename
      ... on FinishPasskeyRegistrationPayload {
        factor {
          id
          name
        }
        recoveryCodes
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
    }
  }
`);

const Rename = graphql(`
  mutation SecurityRenamePasskey($input: RenamePasskeyInput!) {
    renamePasskey(input: $input) {
      __typename
      ... on RenamePasskeyPayload {
        factor {
          id
          name
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
    }
  }
`);

const Remove = graphql(`
  mutation SecurityRemovePasskey($input: RemovePasskeyInput!) {
    removePasskey(input: $input) {
      __typename
      ... on RemovePasskeyPayload {
        ok
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
    }
  }
`);

const StepUp = graphql(`
  mutation SecurityStepUp($input: SecondFactorProofInput!) {
    stepUp(input: $input) {
      __typename
      ... on StepUpPayload {
        verifiedAt
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

const EnrollApp = graphql(`
  mutation SecurityEnrollTotp {
    enrollTotp {
      factorId
      secret
      uri
    }
  }
`);

const ConfirmApp = graphql(`
  mutation SecurityConfirmTotp($input: ConfirmTotpInput!) {
    confirmTotp(input: $input) {
      __typename
      ... on ConfirmTotpPayload {
        recoveryCodes
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
      ... on StepUpRequiredError {
        maxAgeSeconds
      }
    }
  }
`);

type Outcome = { __typename: string } & Partial<TypedError>;

/**
 * The viewer's own sign-in protection: passkeys (register, name, rename, remove) and what else is enrolled.
 * Adding or removing a factor may answer StepUpRequiredError; the page then asks for a factor and retries.
 */
export function SecurityPage() {
  const factors = useQuery(Factors, {});
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<TypedError | ApiError | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [recoveryCodes, setRecoveryCodes] = useState<string[]>([]);
  const [pending, setPending] = useState<(() => Promise<Outcome | null>) | null>(null);
  const [code, setCode] = useState('');
  const [renaming, setRenaming] = useState<{ id: string; name: string } | null>(null);
  const [app, setApp] = useState<{ factorId: string; secret: string; uri: string } | null>(null);
  const [appCode, setAppCode] = useState('');
  const all = factors.data?.secondFactors.factors ?? [];
  const passkeys = all.filter((f) => f.kind === 'WEBAUTHN');
  const hasTotp = all.some((f) => f.kind === 'TOTP');

  /** Runs an action; a StepUpRequiredError keeps it pending until the viewer confirms a factor. */
  const act = async (action: () => Promise<Outcome | null>) => {
    setBusy(true);
    setError(null);
    setStatus(null);
    try {
      const outcome = await action();
      if (outcome?.__typename === 'StepUpRequiredError') {
        setPending(() => action);
        setError(outcome as TypedError);
      } else {
        setPending(null);
        if (outcome && 'message' in outcome && outcome.message !== undefined) setError(outcome as TypedError);
      }
      await factors.refetch();
    } catch (err) {
      if (err instanceof PasskeyCancelled) setError(new ApiError(err.message, 'PASSKEY'));
      else setError(err instanceof ApiError ? err : new ApiError(String(err), null));
    } finally {
      setBusy(false);
    }
  };

  const register = (e: FormEvent) => {
    e.preventDefault();
    const label = name.trim();
    void act(async () => {
      const { startPasskeyRegistration: started } = await request(StartRegistration, {});
      if (started.__typename !== 'PasskeyOptionsPayload') return started;
      const response = await createPasskey(started.options);
      const { finishPasskeyRegistration: finished } = await request(FinishRegistration, { input: { name: label, response } });
      if (finished.__typename === 'FinishPasskeyRegistrationPayload') {
        setName('');
        setRecoveryCodes(finished.recoveryCodes);
        setStatus(`Passkey “${finished.factor.name}” registered.`);
        return null;
      }
      return finished;
    });
  };

  const remove = (id: string, label: string) =>
    act(async () => {
      const { removePasskey } = await request(Remove, { input: { factorId: id } });
      if (removePasskey.__typename === 'RemovePasskeyPayload') {
        setStatus(`Passkey “${label}” removed.`);
        return null;
      }
      return removePasskey;
    });

  const saveRename = (e: FormEvent) => {
    e.preventDefault();
    if (!renaming) return;
    const target = renaming;
    void act(async () => {
      const { renamePasskey } = await request(Rename, { input: { factorId: target.id, name: target.name } });
      if (renamePasskey.__typename === 'RenamePasskeyPayload') {
        setRenaming(null);
        setStatus(`Passkey renamed to “${renamePasskey.factor.name}”.`);
        return null;
      }
      return renamePasskey;
    });
  };

  /** Starts an authenticator-app enrollment: the seed is shown (QR code and text) until it is confirmed. */
  const startApp = () =>
    act(async () => {
      const { enrollTotp } = await request(EnrollApp, {});
      setApp(enrollTotp);
      setAppCode('');
      return null;
    });

  const confirmApp = (e: FormEvent) => {
    e.preventDefault();
    if (!app) return;
    const started = app;
    const typed = appCode.trim();
    void act(async () => {
      const { confirmTotp } = await request(ConfirmApp, { input: { factorId: started.factorId, code: typed } });
      if (confirmTotp.__typename !== 'ConfirmTotpPayload') return confirmTotp;
      setApp(null);
      setAppCode('');
      if (confirmTotp.recoveryCodes.length > 0) setRecoveryCodes(confirmTotp.recoveryCodes);
      setStatus('Authenticator app set up: sign-ins now ask for its code.');
      return null;
    });
  };

  /** Confirms a factor (stepUp), then runs the action that asked for it. */
  const confirm = (proof: 'passkey' | 'code') =>
    act(async () => {
      let input: { webauthn?: unknown; code?: string; recoveryCode?: string };
      if (proof === 'passkey') {
        const result = await assertPasskey();
        if ('refused' in result) return result.refused ?? null;
        input = { webauthn: result.assertion };
      } else {
        const typed = code.trim();
        input = /^[0-9]{6}$/.test(typed) ? { code: typed } : { recoveryCode: typed };
      }
      const { stepUp } = await request(StepUp, { input });
      if (stepUp.__typename !== 'StepUpPayload') return stepUp;
      setCode('');
      return pending ? pending() : null;
    });

  return (
    <section aria-labelledby="security-title">
      <h1 id="security-title">Security</h1>
      <p>Passkeys and authenticator apps protect your sign-in: after your password, you confirm with one of them.</p>

      <h2>Passkeys</h2>
      {factors.loading && !factors.data && <p>Loading…</p>}
      <ErrorText error={factors.error} />
      {factors.data && passkeys.length === 0 && <p data-testid="passkeys-empty">You have no passkey yet.</p>}
      <ul className="plain" aria-label="Your passkeys">
        {passkeys.map((p) => (
          <li key={p.id} className="card" data-testid="passkey-row" data-factor-id={p.id}>
            {renaming?.id === p.id ? (
              <form onSubmit={saveRename} className="inline">
                <label htmlFor={`rename-${p.id}`}>New name</label>
                <input
                  id={`rename-${p.id}`}
                  data-testid="passkey-rename-input"
                  value={renaming.name}
                  maxLength={100}
                  onChange={(e) => setRenaming({ id: p.id, name: e.target.value })}
                />
                <button type="submit" data-testid="passkey-rename-save" disabled={busy || !renaming.name.trim()}>
                  Save
                </button>
                <button type="button" className="link" onClick={() => setRenaming(null)}>
                  Cancel
                </button>
              </form>
            ) : (
              <>
                <strong data-testid="passkey-name">{p.name}</strong>
                <span className="muted">
                  {' '}
                  added {when(p.enrolledAt)}
                  {p.lastUsedAt ? `, last used ${when(p.lastUsedAt)}` : ', never used'}
                  {p.transports.length > 0 ? ` (${p.transports.join(', ')})` : ''}
                </span>{' '}
                <button type="button" className="link" data-testid="passkey-rename" onClick={() => setRenaming({ id: p.id, name: p.name })}>
                  Rename<span className="sr-only"> {p.name}</span>
                </button>{' '}
                <button type="button" data-testid="passkey-remove" disabled={busy} onClick={() => void remove(p.id, p.name)}>
                  Remove<span className="sr-only"> {p.name}</span>
                </button>
              </>
            )}
          </li>
        ))}
      </ul>

      <form onSubmit={register} aria-labelledby="passkey-new-title" className="card">
        <h3 id="passkey-new-title">Add a passkey</h3>
        <label htmlFor="passkey-name">Name</label>
        <input
          id="passkey-name"
          data-testid="passkey-name-input"
          placeholder="e.g. Work laptop"
          maxLength={100}
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
        <button type="submit" data-testid="passkey-register" disabled={busy || !name.trim()}>
          {busy ? 'Waiting for the passkey…' : 'Register a passkey'}
        </button>
      </form>

      {pending && (
        <div className="card" data-testid="step-up">
          <p>Confirm it is you first: use a second factor, and the change goes through.</p>
          {passkeys.length > 0 && (
            <button type="button" data-testid="stepup-passkey" disabled={busy} onClick={() => void confirm('passkey')}>
              Confirm with a passkey
            </button>
          )}
          {(hasTotp || (factors.data?.secondFactors.recoveryCodesLeft ?? 0) > 0) && (
            <form
              className="inline"
              onSubmit={(e) => {
                e.preventDefault();
                void confirm('code');
              }}
            >
              <label htmlFor="stepup-code">Authenticator code or recovery code</label>
              <input id="stepup-code" data-testid="stepup-code" autoComplete="one-time-code" value={code} onChange={(e) => setCode(e.target.value)} />
              <button type="submit" disabled={busy || !code.trim()}>
                Confirm
              </button>
            </form>
          )}
        </div>
      )}

      <div aria-live="polite">
        {status && (
          <p className="notice" role="status" data-testid="security-status">
            {status}
          </p>
        )}
      </div>
      <ErrorText error={error} />

      {recoveryCodes.length > 0 && (
        <div className="card notice" data-testid="recovery-codes">
          <h3>Your recovery codes</h3>
          <p>Each works once, instead of a passkey or code, if you lose your factors. They are shown only now: keep them somewhere safe.</p>
          <ul>
            {recoveryCodes.map((c) => (
              <li key={c}>
                <code>{c}</code>
              </li>
            ))}
          </ul>
        </div>
      )}

      <h2>Authenticator app</h2>
      <p data-testid="totp-state">{hasTotp ? 'An authenticator app is set up.' : 'No authenticator app is set up.'}</p>
      {!app && (
        <button type="button" data-testid="totp-start" disabled={busy} onClick={() => void startApp()}>
          {hasTotp ? 'Replace the authenticator app' : 'Set up an authenticator app'}
        </button>
      )}
      {app && (
        <form className="card stack" onSubmit={confirmApp} aria-label="Confirm the authenticator app" data-testid="totp-enroll">
          <p>Scan this with the app (or type the key in), then enter the 6 digits it shows. The key is shown only now.</p>
          <QrCode text={app.uri} label="QR code of the authenticator app's key" />
          <p>
            Key: <code className="mono break" data-testid="totp-secret">{app.secret}</code>
          </p>
          <label>
            Code from the app
            <input inputMode="numeric" autoComplete="one-time-code" maxLength={6} value={appCode} onChange={(e) => setAppCode(e.target.value)} data-testid="totp-code-input" />
          </label>
          <button type="submit" data-testid="totp-confirm" disabled={busy || !/^[0-9]{6}$/.test(appCode.trim())}>
            Confirm
          </button>
        </form>
      )}

      <h2>Other factors</h2>
      <p>
        Recovery codes left:{' '}
        {factors.data?.secondFactors.recoveryCodesLeft ?? '…'}. This session signed in with{' '}
        {(factors.data?.secondFactors.sessionAuthMethod ?? '…').toLowerCase().replaceAll('_', ' ')}.
      </p>
    </section>
  );
}
