// A Node program using the published @vaultgate/sdk, as a project outside this repository would: compiled with a
// strict NodeNext tsconfig, run with plain `node`. test/integration/sdkPackage.test.ts installs the packed tarball
// next to it and runs it against a live server; it prints one JSON line with what it saw.
//
//   node consumer.js <graphql url> <session token> <organization id>
import WebSocket from 'ws';
import {
  createVaultgateClient,
  CreateCredentialDocument,
  PasswordAccessedDocument,
  RecordCredentialAccessDocument,
  ViewerDocument,
  possibleTypes,
  type PasswordAccessedSubscription,
} from '@vaultgate/sdk';

const [url, token, organizationId] = process.argv.slice(2);
if (!url || !token || !organizationId) throw new Error('usage: node consumer.js <url> <token> <organizationId>');

// Node 20 has no global WebSocket: inject the `ws` package's (browsers and Node ≥ 22 need nothing).
const client = createVaultgateClient({ url, token, webSocketImpl: WebSocket });

// A query.
const { viewer } = await client.request(ViewerDocument);

// A mutation refused with a typed error: data, not an exception, narrowed by __typename.
const refused = (await client.request(CreateCredentialDocument, { input: { organizationId, kind: 'PASSWORD', name: '' } })).createCredential;
if (refused.__typename !== 'ValidationError') throw new Error(`expected a ValidationError, got ${refused.__typename}`);
const errorMessage: string = refused.message;
const fieldPaths = refused.fieldErrors.map((e) => e.path.join('.'));

const created = (await client.request(CreateCredentialDocument, { input: { organizationId, kind: 'PASSWORD', name: 'From the package', password: 'a long enough example password' } }))
  .createCredential;
if (created.__typename !== 'CreateCredentialPayload') throw new Error(`createCredential: ${created.__typename}`);
const credentialId = created.credential.id;

// A subscription: accesses to that credential, made by this program after the subscription is registered.
const events = client.subscribe(PasswordAccessedDocument, { filter: { credentialId } });
const firstEvent = events.next();
let event: IteratorResult<{ data?: PasswordAccessedSubscription | null }> | undefined;
for (let attempt = 0; attempt < 50 && !event; attempt++) {
  const recorded = (await client.request(RecordCredentialAccessDocument, { input: { id: credentialId, surface: 'COPY' } })).recordCredentialAccess;
  if (recorded.__typename !== 'RecordCredentialAccessPayload') throw new Error(`recordCredentialAccess: ${recorded.__typename}`);
  event = await Promise.race([firstEvent, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 200))]);
}
await events.return?.();
await client.close();

const accessed = event && !event.done ? event.value.data?.passwordAccessed : undefined;
console.log(
  JSON.stringify({
    viewerEmail: viewer?.user?.email ?? null,
    errorTypename: refused.__typename,
    errorMessage,
    fieldPaths,
    eventCredentialId: accessed?.credential?.id ?? null,
    eventSurface: accessed?.accessRecord.surface ?? null,
    credentialId,
    errorIsAnError: possibleTypes.CreateCredentialResult?.includes('ValidationError') ?? false,
  }),
);
