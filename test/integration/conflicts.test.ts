import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { createOrg } from '../support/fixtures.ts';

/** Issue 12: a lost optimistic-version race is a typed, retryable ConflictError, not a ValidationError. */
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('ConflictError', () => {
  it('is a member of rotateCredential’s result, with retryable', async () => {
    const res = await server.gql(`{
      result: __type(name: "RotateCredentialResult") { possibleTypes { name } }
      error: __type(name: "ConflictError") { fields { name type { kind ofType { name } } } interfaces { name } }
    }`);
    expect(res.data.result.possibleTypes.map((t: { name: string }) => t.name)).toContain('ConflictError');
    expect(res.data.error.interfaces).toEqual([{ name: 'Error' }]);
    expect(res.data.error.fields).toContainEqual({ name: 'retryable', type: { kind: 'NON_NULL', ofType: { name: 'Boolean' } } });
  });

  it('racing rotations each either succeed or answer ConflictError (retryable), never ValidationError', async () => {
    const org = await createOrg(server, 'conflict');
    const created = await server.gql(
      'mutation($input: CreateCredentialInput!) { createCredential(input: $input) { ... on CreateCredentialPayload { credential { id } } } }',
      { input: { organizationId: org.orgId, kind: 'PASSWORD', name: 'db', password: 'First-password-1!' } },
      org.admin,
    );
    const id = created.data.createCredential.credential.id;
    const ROTATE = 'mutation($input: RotateCredentialInput!) { rotateCredential(input: $input) { __typename ... on ConflictError { retryable message } } }';
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => server.gql(ROTATE, { input: { id, reason: 'race', newSecret: { password: `Rotated-password-${i}!` } } }, org.admin)));
    for (const r of results) {
      expect(r.errors).toBeUndefined();
      expect(['RotateCredentialPayload', 'ConflictError']).toContain(r.data.rotateCredential.__typename);
      if (r.data.rotateCredential.__typename === 'ConflictError') expect(r.data.rotateCredential.retryable).toBe(true);
    }
  });
});
