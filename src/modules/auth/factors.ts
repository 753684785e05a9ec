// What the second-factor services share (TOTP and recovery codes in mfa.service.ts, passkeys in passkey.service.ts):
// the challenge's failure limit, recovery codes, and the step-up freshness check. A module of its own so that
// neither service imports the other's importer.
import { createHash, randomInt } from 'node:crypto';
import type { Context } from '../../context.ts';
import { StepUpRequiredError } from '../../lib/errors.ts';

export const CHALLENGE_MAX_FAILURES = 5;

export const RECOVERY_CODE_COUNT = 10;

/** Recovery codes are typed by people: case, spaces and dashes do not matter. */
export const normalizeRecoveryCode = (code: string) => code.toLowerCase().replace(/[\s-]/g, '');
export const hashRecoveryCode = (code: string) => createHash('sha256').update(`vaultgate-recovery:${normalizeRecoveryCode(code)}`).digest('hex');

export function newRecoveryCode(): string {
  // 10 characters from a 32-letter alphabet without look-alikes: 50 bits, shown as xxxxx-xxxxx.
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
  let out = '';
  for (let i = 0; i < 10; i++) out += alphabet[randomInt(alphabet.length)];
  return `${out.slice(0, 5)}-${out.slice(5)}`;
}

export async function issueRecoveryCodes(ctx: Context, userId: string): Promise<string[]> {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
  await ctx.db.$transaction([
    ctx.db.recoveryCode.deleteMany({ where: { userId } }),
    ctx.db.recoveryCode.createMany({ data: codes.map((code) => ({ userId, codeHash: hashRecoveryCode(code), createdAt: ctx.clock.now() })) }),
  ]);
  return codes;
}

/** Throws StepUpRequiredError unless this session verified a second factor within STEP_UP_MAX_AGE_SECONDS. */
export function assertFreshFactor(ctx: Context): void {
  const p = ctx.policy.principal;
  const maxAge = ctx.config.stepUpMaxAgeMs;
  const fresh = p.kind === 'user' && p.factorVerifiedAt != null && ctx.clock.now().getTime() - p.factorVerifiedAt <= maxAge;
  if (!fresh) throw new StepUpRequiredError(Math.round(maxAge / 1000));
}
