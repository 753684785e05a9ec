import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrg, type OrgFixture } from '../support/fixtures.ts';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { copyInto, exec, installPackedSdk, REPO_ROOT, type InstalledSdk } from '../support/sdkPackage.ts';

// @vaultgate/sdk as a user gets it: the packed tarball installed into a project outside the repository, a strict
// NodeNext TypeScript program compiled against its declarations, run with plain `node` against a live server.

let server: TestServer;
let org: OrgFixture;
let sdk: InstalledSdk;

beforeAll(async () => {
  server = await startTestServer();
  org = await createOrg(server, 'sdkpkg');
  sdk = await installPackedSdk(['ws@^8', '@types/ws@^8', '@types/node@^20']);
}, 300_000);

afterAll(async () => {
  sdk?.remove();
  await server?.stop();
});

describe('the @vaultgate/sdk tarball', () => {
  it('installs outside the repository, compiles under strict NodeNext and runs with plain node: query, typed error, subscription', async () => {
    const pkg = JSON.parse(await exec('node', ['-p', 'JSON.stringify(require("./node_modules/@vaultgate/sdk/package.json"))'], sdk.dir)) as Record<string, any>;
    expect(pkg.peerDependencies).toMatchObject({ graphql: expect.any(String), 'graphql-ws': expect.any(String) });
    expect(pkg.exports['.']).toMatchObject({ types: './dist/index.d.ts' });

    copyInto(sdk.dir, join(REPO_ROOT, 'packages/sdk/examples/node'), ['consumer.ts', 'tsconfig.json']);
    await exec('node', [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], sdk.dir);

    const out = JSON.parse(await exec('node', ['consumer.js', server.url, org.admin.token, org.orgId], sdk.dir, 60_000));
    expect(out).toMatchObject({
      viewerEmail: org.admin.email,
      errorTypename: 'ValidationError',
      errorMessage: expect.stringMatching(/\S/),
      fieldPaths: expect.arrayContaining([expect.stringContaining('name')]),
      eventSurface: 'COPY',
      errorIsAnError: true,
    });
    expect(out.eventCredentialId).toBe(out.credentialId);
  }, 240_000);
});
