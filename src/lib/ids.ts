import { decodeGlobalID } from '@pothos/plugin-relay';
import { ForbiddenError } from './errors.ts';

/**
 * The database id inside a global id of the expected type. A malformed id, or one of another type, answers
 * exactly like an id that does not exist. A NUL byte is malformed too: PostgreSQL refuses it in text, which would
 * otherwise surface as an unexpected error instead of "not found".
 */
export function localId(globalId: string, typename: string): string {
  try {
    const decoded = decodeGlobalID(globalId);
    if (decoded.typename === typename && decoded.id.length > 0 && decoded.id.length <= 64 && !decoded.id.includes('\u0000')) return decoded.id;
  } catch {
    // fall through
  }
  throw new ForbiddenError();
}
