import type { ApiError } from '../lib/api';

/** Any member of the schema's Error interface, as the operations select it (ErrorFields and friends). */
export type TypedError = {
  __typename?: string;
  message: string;
  fieldErrors?: { path: string[]; message: string }[] | null;
  field?: string | null;
  rule?: string | null;
  state?: string | null;
  retryAfterSeconds?: number | null;
};

const LABELS: Record<string, string> = {
  ValidationError: 'Check the form',
  PolicyViolationError: 'The access policy refused this',
  InvalidRequestStateError: 'The request has moved on',
  AlreadyDecidedError: 'Already decided',
  NotApproverError: 'Not an approver',
  SelfApprovalError: 'Not your own request',
  AccessRequestRequiredError: 'Access request required',
  RateLimitedError: 'Too many attempts',
  InvalidCredentialsError: 'Sign-in refused',
  AlreadyExistsError: 'Already exists',
  SecretUnavailableError: 'Secret unavailable',
  FieldNotAvailableError: 'Field not available',
  LastAdminError: 'Last administrator',
  CategoryInUseError: 'Category in use',
  FolderNotEmptyError: 'Folder not empty',
  CredentialHasOpenRequestsError: 'Open requests',
  InvalidSecondFactorError: 'Not accepted',
  StepUpRequiredError: 'Confirm it is you',
};

/** Puts a typed error into words: what went wrong, and which field (or rule, or state) it concerns. */
export function ErrorText({ error, id }: { error: TypedError | ApiError | null | undefined; id?: string }) {
  if (!error) return null;
  if (!('__typename' in error) || error.__typename === undefined) {
    const code = 'code' in error ? error.code : null;
    return (
      <div role="alert" className="error" id={id} data-testid="error">
        {code === 'FORBIDDEN' ? 'Not found, or you are not allowed to do this.' : error.message}
      </div>
    );
  }
  const e = error as TypedError;
  const details: string[] = [];
  for (const f of e.fieldErrors ?? []) details.push(`${f.path.join('.') || 'input'}: ${f.message}`);
  if (e.field) details.push(`field: ${e.field}`);
  if (e.rule) details.push(`rule: ${e.rule.toLowerCase().replaceAll('_', ' ')}`);
  if (e.state) details.push(`state: ${e.state.toLowerCase()}`);
  if (e.retryAfterSeconds) details.push(`try again in ${e.retryAfterSeconds} s`);
  return (
    <div role="alert" className="error" id={id} data-testid="error" data-error-type={e.__typename}>
      <strong>{LABELS[e.__typename ?? ''] ?? 'Refused'}:</strong> {e.message}
      {details.length > 0 && (
        <ul>
          {details.map((d) => (
            <li key={d}>{d}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** The first error of a ValidationError that concerns one input field, for aria-describedby beside it. */
export function fieldMessage(error: TypedError | null | undefined, field: string): string | null {
  return error?.fieldErrors?.find((f) => f.path.at(-1) === field)?.message ?? null;
}
