import { z } from 'zod';
import { ValidationError } from './errors.ts';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './passwords.ts';

/** Parses input with a zod schema; failures become a ValidationError whose paths start at `prefix`. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, prefix: string[] = ['input']): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw ValidationError.fromZod(result.error, prefix);
  return result.data;
}

/** Strings are trimmed, must not be blank, and have a hard upper bound. NUL bytes are refused everywhere. */
export const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters');

export const email = z
  .string()
  .trim()
  .max(254, 'must be at most 254 characters')
  .toLowerCase()
  .pipe(z.email('must be an email address'));

/** A user's sign-in password (argon2id-hashed; the upper bound keeps hashing cheap). */
export const passwordSchema = z
  .string()
  .min(PASSWORD_MIN_LENGTH, `must be at least ${PASSWORD_MIN_LENGTH} characters`)
  .max(PASSWORD_MAX_LENGTH, `must be at most ${PASSWORD_MAX_LENGTH} characters`);
