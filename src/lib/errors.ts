import { GraphQLError } from 'graphql';
import type { ZodError } from 'zod';

/**
 * Expected refusals. Each class becomes an object type in the schema (graphql/errors.ts) that clients branch
 * on by `__typename`; messages are written for people and never carry secrets or internals.
 */
export abstract class DomainError extends Error {}

export type FieldIssue = { path: string[]; message: string };

export class ValidationError extends DomainError {
  override name = 'ValidationError';
  constructor(readonly fieldErrors: FieldIssue[]) {
    super(fieldErrors.length === 1 ? `Invalid input: ${fieldErrors[0].path.join('.')}: ${fieldErrors[0].message}` : 'Invalid input');
  }

  static fromZod(error: ZodError, prefix: string[] = []): ValidationError {
    return new ValidationError(
      error.issues.map((i) => ({ path: [...prefix, ...i.path.map(String)], message: i.message })),
    );
  }

  static field(path: string, message: string): ValidationError {
    return new ValidationError([{ path: path.split('.'), message }]);
  }
}

/** The password was right, but an organization of the user signs in only through single sign-on. */
export class PasswordSignInDisabledError extends DomainError {
  override name = 'PasswordSignInDisabledError';
  constructor() {
    super('Your organization signs in with single sign-on; passwords are switched off for its members.');
  }
}

/** The single-sign-on handoff code is unknown, used or expired. */
export class InvalidSsoCodeError extends DomainError {
  override name = 'InvalidSsoCodeError';
  constructor() {
    super('This single sign-on link has expired or was already used; sign in again.');
  }
}

export class InvalidCredentialsError extends DomainError {
  override name = 'InvalidCredentialsError';
  constructor() {
    super('The email or password is not correct.');
  }
}

export class AlreadyExistsError extends DomainError {
  override name = 'AlreadyExistsError';
  constructor(message: string, readonly field: string | null = null) {
    super(message);
  }
}

export class BootstrapClosedError extends DomainError {
  override name = 'BootstrapClosedError';
  constructor() {
    super('This installation already has users; sign in instead.');
  }
}

/**
 * Bootstrap from a remote address without the one-time bootstrap token. Nothing was checked or hashed.
 */
export class BootstrapNotAllowedError extends DomainError {
  override name = 'BootstrapNotAllowedError';
  constructor() {
    super('Bootstrap is accepted only from the server itself (a loopback address) or with the one-time bootstrap token printed when the server started.');
  }
}

/**
 * Someone else changed the object between this request's read and its write (an optimistic version check lost
 * the race). Nothing was changed; the same request, sent again, reads the new state and usually succeeds.
 */
export class ConflictError extends DomainError {
  override name = 'ConflictError';
  readonly retryable = true;
  constructor(message = 'The object changed meanwhile; nothing was changed. Try again.') {
    super(message);
  }
}

export class LastAdminError extends DomainError {
  override name = 'LastAdminError';
  constructor() {
    super('An organization must keep at least one administrator.');
  }
}

/**
 * Too many attempts: sign-ins (per account, per client address), or reveals per user or API key. Nothing was
 * checked or changed; the same attempt may succeed after `retryAfterSeconds`.
 */
export class RateLimitedError extends DomainError {
  override name = 'RateLimitedError';
  constructor(readonly retryAfterSeconds: number) {
    super(`Too many attempts. Try again in ${retryAfterSeconds} second${retryAfterSeconds === 1 ? '' : 's'}.`);
  }
}

/**
 * Authorization failure. Deliberately the same for "not allowed" and "does not exist", so that ids of other
 * organizations cannot be probed.
 */
export class ForbiddenError extends GraphQLError {
  constructor() {
    super('Not found, or not allowed.', { extensions: { code: 'FORBIDDEN' } });
  }
}

/**
 * The password was right and the account has a second factor: no session yet. Finish with `completeSignIn`
 * before `expiresAt`, giving the challenge id and a code (or a recovery code).
 */
export class MfaRequired extends DomainError {
  override name = 'MfaRequired';
  constructor(readonly challengeId: string, readonly methods: string[], readonly expiresAt: Date) {
    super('A second factor is required to finish signing in.');
  }
}

/** The action needs a second factor verified lately by this session: call `stepUp` with a code, then try again. */
export class StepUpRequiredError extends DomainError {
  override name = 'StepUpRequiredError';
  constructor(readonly maxAgeSeconds: number) {
    super('Confirm it is you: verify your second factor (stepUp), then try again.');
  }
}

/** The code, recovery code or challenge was not accepted (wrong, already used, or expired). Nothing changed. */
export class InvalidSecondFactorError extends DomainError {
  override name = 'InvalidSecondFactorError';
  constructor() {
    super('The code or passkey was not accepted, was already used, or the sign-in attempt expired.');
  }
}

/**
 * An organization the user belongs to requires a second factor and the user has none: until one is enrolled
 * (enrollTotp, confirmTotp) every other field and mutation answers this.
 */
export class MfaEnrollmentRequiredError extends GraphQLError {
  constructor() {
    super('Enroll a second factor first (enrollTotp, then confirmTotp): an organization you belong to requires one.', {
      extensions: { code: 'MFA_ENROLLMENT_REQUIRED' },
    });
  }
}

/** A credential was presented but is not valid (unknown, expired, revoked, or its user disabled). */
export class UnauthenticatedError extends GraphQLError {
  constructor(message = 'The session or API key is not valid. Sign in again.') {
    super(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
  }
}

/**
 * Too many invalid credentials from one client address: answered before any credential is looked up, with
 * HTTP 429 and a Retry-After header (an authentication-layer refusal, like UNAUTHENTICATED).
 */
export class TooManyAuthFailuresError extends GraphQLError {
  constructor(retryAfterSeconds: number) {
    super(`Too many invalid credentials from this address. Try again in ${retryAfterSeconds} seconds.`, {
      extensions: {
        code: 'RATE_LIMITED',
        retryAfterSeconds,
        http: { status: 429, headers: { 'Retry-After': String(retryAfterSeconds) } },
      },
    });
  }
}
