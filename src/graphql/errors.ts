import {
  AlreadyExistsError,
  BootstrapClosedError,
  BootstrapNotAllowedError,
  ConflictError,
  InvalidCredentialsError,
  InvalidSsoCodeError,
  PasswordSignInDisabledError,
  LastAdminError,
  RateLimitedError,
  ValidationError,
  type FieldIssue,
} from '../lib/errors.ts';
import { builder } from './builder.ts';

/** The schema side of the typed errors in lib/errors.ts. */
export const ErrorInterface = builder.interfaceRef<Error>('Error').implement({
  description: 'An expected refusal. Every typed error implements it, so clients can always read a message.',
  // Every typed error class names itself after its schema type (`override name = 'XError'`).
  resolveType: (error) => error.name,
  fields: (t) => ({
    message: t.exposeString('message', { description: 'What went wrong, written for people.' }),
  }),
});

export const FieldIssueRef = builder.objectRef<FieldIssue>('FieldError').implement({
  description: 'One invalid input field.',
  fields: (t) => ({
    path: t.exposeStringList('path', { description: 'Path of the field within the input, e.g. ["input", "email"].' }),
    message: t.exposeString('message', { description: 'Why the value was refused.' }),
  }),
});

builder.objectType(ValidationError, {
  name: 'ValidationError',
  description: 'The input was refused; nothing was changed. `fieldErrors` names each bad field.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    fieldErrors: t.field({ type: [FieldIssueRef], description: 'Each invalid field.', resolve: (e) => e.fieldErrors }),
  }),
});

builder.objectType(PasswordSignInDisabledError, {
  name: 'PasswordSignInDisabledError',
  description: 'The password was right, but an organization of this user allows only single sign-on (allowPasswordSignIn is off): sign in through /auth/oidc/start. No session was opened.',
  interfaces: [ErrorInterface],
});

builder.objectType(InvalidSsoCodeError, {
  name: 'InvalidSsoCodeError',
  description: 'The single-sign-on handoff code is unknown, was already exchanged, or expired (it lives 60 seconds): start single sign-on again.',
  interfaces: [ErrorInterface],
});

builder.objectType(InvalidCredentialsError, {
  name: 'InvalidCredentialsError',
  description: 'Sign-in failed. The same answer for an unknown email, a wrong password and a disabled account.',
  interfaces: [ErrorInterface],
});

builder.objectType(AlreadyExistsError, {
  name: 'AlreadyExistsError',
  description: 'Something with the same identity already exists.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    field: t.exposeString('field', { nullable: true, description: 'The input field that collides, when there is one.' }),
  }),
});

builder.objectType(BootstrapClosedError, {
  name: 'BootstrapClosedError',
  description: 'Bootstrap works only while the installation has no users.',
  interfaces: [ErrorInterface],
});

builder.objectType(BootstrapNotAllowedError, {
  name: 'BootstrapNotAllowedError',
  description:
    'Bootstrap was asked from a remote address without the one-time bootstrap token (printed in the server log at first start, when no user exists). Ask from the server itself, or pass `bootstrapToken`.',
  interfaces: [ErrorInterface],
});

builder.objectType(ConflictError, {
  name: 'ConflictError',
  description:
    'A concurrent change won the race (an optimistic version check failed). Nothing was changed; send the same request again (`retryable` is true), after reloading when the input depends on the current state.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    retryable: t.boolean({ description: 'Whether sending the same request again may succeed: always true.', resolve: (e) => e.retryable }),
  }),
});

builder.objectType(LastAdminError, {
  name: 'LastAdminError',
  description: 'The change would leave an organization without an administrator.',
  interfaces: [ErrorInterface],
});

builder.objectType(RateLimitedError, {
  name: 'RateLimitedError',
  description:
    'Too many attempts (sign-ins per account or client address, or reveals per user or API key). Nothing was checked or changed: wait `retryAfterSeconds`, then try again.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    retryAfterSeconds: t.exposeInt('retryAfterSeconds', { description: 'Seconds until the same attempt may be made again (at least 1).' }),
  }),
});
