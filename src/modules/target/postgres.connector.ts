import pg from 'pg';
import { fail, hasControlCharacters, OK, type TargetConfig, type TargetConnector, type TargetResult } from './connector.ts';

type PgTarget = Extract<TargetConfig, { protocol: 'POSTGRES' }>;

const CONNECT_TIMEOUT_MS = 10_000;

/** A double-quoted SQL identifier: embedded quotes doubled. */
export function quoteIdentifier(name: string): string {
  if (name.length === 0 || hasControlCharacters(name)) throw new Error('invalid identifier');
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * A SQL string literal safe under any `standard_conforming_strings`: single quotes doubled, and when a backslash is
 * present the E'' form with backslashes doubled (what libpq's PQescapeLiteral does). Control characters are refused.
 */
export function quoteLiteral(value: string): string {
  if (hasControlCharacters(value)) throw new Error('control characters are not allowed');
  const body = value.replace(/'/g, "''");
  return value.includes('\\') ? `E'${body.replace(/\\/g, '\\\\')}'` : `'${body}'`;
}

async function connect(target: PgTarget, user: string, password: string): Promise<{ client: pg.Client } | { failure: TargetResult }> {
  const client = new pg.Client({ host: target.host, port: target.port, database: target.database, user, password, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return { client };
  } catch (error) {
    await client.end().catch(() => undefined);
    // 28P01 invalid_password, 28000 invalid_authorization_specification (no pg_hba entry / role cannot log in).
    const code = (error as { code?: string }).code;
    return { failure: fail(code === '28P01' || code === '28000' ? 'AUTH_REJECTED' : 'UNREACHABLE') };
  }
}

/**
 * PostgreSQL: the credential's username is the role. verify connects as the role; change connects as the role with
 * the old password and runs `ALTER ROLE "<role>" PASSWORD '<new>'` (a role may change its own password). ALTER ROLE
 * takes no bind parameters, hence the quoting above. The server hashes the password (SCRAM by default); statement
 * logging of ALTER ROLE on the target would record the literal, so targets should not log DDL (docs/targets.md).
 */
export const postgresConnector: TargetConnector = {
  async verify(target, account, secret) {
    if (target.protocol !== 'POSTGRES') return fail('UNREACHABLE');
    const opened = await connect(target, account.username, secret);
    if ('failure' in opened) return opened.failure;
    await opened.client.end().catch(() => undefined);
    return OK;
  },
  async change(target, account, oldSecret, newSecret) {
    if (target.protocol !== 'POSTGRES') return fail('UNREACHABLE');
    let sql: string;
    try {
      sql = `ALTER ROLE ${quoteIdentifier(account.username)} PASSWORD ${quoteLiteral(newSecret)}`;
    } catch {
      return fail('UNSUPPORTED_SECRET');
    }
    const opened = await connect(target, account.username, oldSecret);
    if ('failure' in opened) return opened.failure;
    try {
      await opened.client.query(sql);
      return OK;
    } catch (error) {
      // A server error (with its SQLSTATE) means the statement was refused; a lost connection leaves it unknown.
      const code = (error as { code?: string }).code;
      return code ? fail('CHANGE_REJECTED', code) : fail('CHANGE_UNCONFIRMED');
    } finally {
      await opened.client.end().catch(() => undefined);
    }
  },
};
