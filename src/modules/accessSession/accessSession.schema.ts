import { builder } from '../../graphql/builder.ts';
import { ErrorInterface } from '../../graphql/errors.ts';
import '../accessRequest/accessRequest.schema.ts';
import '../asset/asset.schema.ts';
import { AccessRequestTypeEnum } from '../accessPolicy/accessPolicy.schema.ts';
import type { AccessRequestType } from '../accessPolicy/accessPolicy.service.ts';
import { InvalidRequestStateError } from '../accessRequest/accessRequest.errors.ts';
import type { AccessSession } from '../../generated/prisma-sqlite/client.ts';
import {
  AssetNotReadyError,
  NotASessionRequestError,
  RecordingUnavailableError,
  readSessionRecording,
  startSession,
  terminateSession,
} from './accessSession.service.ts';
import { watchSession, type ActivityEvent } from './sessionActivity.ts';

export const AccessSessionNode = builder.prismaNode('AccessSession', {
  description: 'One SSH session through vaultgate’s recording proxy, opened with a startSession token for a SESSION access request.',
  id: { field: 'id', description: 'Global id.' },
  nullable: true,
  findUnique: (id, ctx) => ({ id, AND: [ctx.policy.readable('AccessSession')] }),
  fields: (t) => ({
    state: t.exposeString('state', { description: 'ISSUED (token not used yet), ACTIVE (connected) or ENDED.' }),
    tokenExpiresAt: t.expose('tokenExpiresAt', { type: 'DateTime', description: 'Until when the token opens a connection (once).' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true, description: 'When the proxy accepted the token.' }),
    endedAt: t.expose('endedAt', { type: 'DateTime', nullable: true, description: 'When the session ended.' }),
    endReason: t.exposeString('endReason', {
      nullable: true,
      description: 'Why it ended: CLIENT_CLOSED, TARGET_CLOSED, WINDOW_ENDED, REQUEST_ENDED, USER_DISABLED, TERMINATED, HOST_KEY_MISMATCH, TARGET_UNREACHABLE, ASSET_NOT_READY or SERVER_STOPPED.',
    }),
    clientAddress: t.exposeString('clientAddress', { nullable: true, description: 'The address the user connected from.' }),
    recordingSha256: t.exposeString('recordingSha256', { nullable: true, description: 'SHA-256 (hex) of the recording’s asciicast text, as written in the `session.ended` audit entry.' }),
    recordingBytes: t.exposeInt('recordingBytes', { description: 'Size of the recording’s asciicast text in bytes.' }),
    request: t.relation('request', { description: 'The access request the session belongs to.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the token was issued.' }),
  }),
});

builder.prismaObjectFields('AccessRequest', (t) => ({
  type: t.field({ type: AccessRequestTypeEnum, description: 'What the request grants: released fields, or a recorded SSH session.', resolve: (r) => r.requestType as AccessRequestType }),
  sessions: t.relation('sessions', { description: 'The SSH sessions of a SESSION request, newest first.', query: (_args, ctx) => ({ where: ctx.policy.readable('AccessSession'), orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }) }),
}));

builder.prismaObjectField('Organization', 'accessSessions', (t) =>
  t.relatedConnection('accessSessions', {
    description: 'Every SSH session of the organization, newest first (ADMIN, AUDITOR): where recordings are found. Anyone else gets a FORBIDDEN error.',
    authScopes: (org, _args, ctx) => ctx.policy.can('accessRequest:readAll', { organizationId: org.id }),
    cursor: 'id',
    totalCount: true,
    query: (_args, ctx) => ({ where: ctx.policy.readable('AccessSession'), orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
  }),
);

builder.objectType(NotASessionRequestError, {
  name: 'NotASessionRequestError',
  description: 'The request releases fields; only requests made under a SESSION policy start sessions.',
  interfaces: [ErrorInterface],
});
builder.objectType(AssetNotReadyError, {
  name: 'AssetNotReadyError',
  description: 'The credential is not an account of an asset with a pinned host key; an ADMIN must link and pin it first.',
  interfaces: [ErrorInterface],
});
builder.objectType(RecordingUnavailableError, {
  name: 'RecordingUnavailableError',
  description: 'The recording cannot be returned: the session is still running, or the recording is incomplete or was altered (it no longer matches its audited hash).',
  interfaces: [ErrorInterface],
});

const StartSessionPayload = builder.objectRef<{ token: string; session: AccessSession }>('StartSessionPayload').implement({
  description: 'A single-use token for one SSH connection through the proxy.',
  fields: (t) => ({
    token: t.exposeString('token', { description: 'Connect with `ssh -p <SSH proxy port> <token>@<vaultgate host>` within five minutes; it works once. Shown only here.' }),
    expiresAt: t.field({ type: 'DateTime', description: 'When the token stops working if unused.', resolve: (p) => p.session.tokenExpiresAt }),
    session: t.field({ type: AccessSessionNode, description: 'The session the token opens.', resolve: (p) => p.session }),
  }),
});
const TerminateSessionPayload = builder.objectRef<{ session: AccessSession }>('TerminateSessionPayload').implement({
  description: 'The session is being ended; the proxy closes it within about a second.',
  fields: (t) => ({ session: t.field({ type: AccessSessionNode, description: 'The session.', resolve: (p) => p.session }) }),
});
const SessionRecordingRef = builder.objectRef<{ session: AccessSession; asciicast: string; sha256: string }>('SessionRecording').implement({
  description: 'The recording of a finished session, checked against the hash in its audit entry.',
  fields: (t) => ({
    session: t.field({ type: AccessSessionNode, description: 'The session.', resolve: (p) => p.session }),
    asciicast: t.exposeString('asciicast', { description: 'asciicast v2 text: a header line, then [seconds, "o" | "i" | "r", data] lines (output, input, resize).' }),
    sha256: t.exposeString('sha256', { description: 'SHA-256 (hex) of the text; equal to the one audited in `session.ended`.' }),
  }),
});

const StartSessionInput = builder.inputType('StartSessionInput', {
  description: 'The SESSION request to open a session for.',
  fields: (t) => ({ requestId: t.id({ required: true, description: 'Global id of one’s own Available SESSION request.' }) }),
});
const TerminateSessionInput = builder.inputType('TerminateSessionInput', {
  description: 'The session to end.',
  fields: (t) => ({ id: t.id({ required: true, description: 'Global id of the session.' }) }),
});

builder.mutationFields((t) => ({
  startSession: t.field({
    description: 'Issues a single-use, five-minute token with which the requester opens one SSH session through the proxy, while their SESSION request is Available. Never releases the secret.',
    authScopes: { can: 'accessSession:start' },
    type: StartSessionPayload,
    errors: { types: [InvalidRequestStateError, NotASessionRequestError, AssetNotReadyError] },
    args: { input: t.arg({ type: StartSessionInput, required: true }) },
    resolve: (_r, { input }, ctx) => startSession(ctx, { requestId: String(input.requestId) }),
  }),
  terminateSession: t.field({
    description: 'Ends a session now: whoever may revoke its request (its approvers, an ADMIN). The request itself stays Available.',
    authScopes: { can: 'accessRequest:decide' },
    type: TerminateSessionPayload,
    errors: { types: [InvalidRequestStateError] },
    args: { input: t.arg({ type: TerminateSessionInput, required: true }) },
    resolve: async (_r, { input }, ctx) => ({ session: await terminateSession(ctx, { id: String(input.id) }) }),
  }),
}));

builder.queryFields((t) => ({
  sessionRecording: t.field({
    description: 'The recording of a finished SSH session as asciicast v2 text (ADMIN, AUDITOR). Every read is audited (`session.recording_read`).',
    authScopes: { can: 'accessSession:readRecording' },
    type: SessionRecordingRef,
    errors: { types: [RecordingUnavailableError] },
    args: { id: t.arg.id({ required: true, description: 'Global id of the session.' }) },
    resolve: (_r, args, ctx) => readSessionRecording(ctx, { id: String(args.id) }),
  }),
}));

const SessionActivityEventRef = builder.objectRef<ActivityEvent>('SessionActivityEvent').implement({
  description: 'One event of a running session as its recording gets it (asciicast v2), or the last one, when it ended.',
  fields: (t) => ({
    time: t.exposeFloat('time', { description: 'Seconds since the session started (as in the recording).' }),
    kind: t.exposeString('kind', { description: '"o": output the user received, "i": input the user sent, "r": a window change ("COLSxROWS"), "m": a marker (e.g. "forward 127.0.0.1:5432" when a port forward opened), "end": the session ended (the last event).' }),
    data: t.exposeString('data', { description: 'The text (for "end": the end reason).' }),
    endReason: t.exposeString('endReason', { nullable: true, description: 'On the "end" event: why the session ended (see AccessSession.endReason); null otherwise.' }),
  }),
});

builder.subscriptionFields((t) => ({
  sessionActivity: t.field({
    type: SessionActivityEventRef,
    description:
      'Watch a session live (ADMIN, AUDITOR: whoever may read its recording): its asciicast events as they are recorded, then an "end" event, and the subscription completes. Starting is audited (`session.watch`); the permission is re-checked while watching. Events from before the subscription are in the recording, not here.',
    authScopes: { can: 'accessSession:readRecording' },
    args: { sessionId: t.arg.id({ required: true, description: 'Global id of the session.' }) },
    subscribe: (_root, args, ctx) => watchSession(ctx, String(args.sessionId)),
    resolve: (event) => event,
  }),
}));
