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
