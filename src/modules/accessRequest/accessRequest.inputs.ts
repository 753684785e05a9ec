import { builder } from '../../graphql/builder.ts';
import { AccessRequestTypeEnum, ReleasableFieldEnum } from '../accessPolicy/accessPolicy.schema.ts';
import type { RequestState } from './accessRequest.state.ts';
import { AccessRequestStateEnum } from './accessRequest.types.ts';

// The inputs of the access-request queries and mutations.

export const AccessRequestFilter = builder.inputType('AccessRequestFilter', {
  description: 'Which requests. All given conditions must match.',
  fields: (t) => ({
    states: t.field({ type: [AccessRequestStateEnum], description: 'Only requests in these states (as of now).' }),
    organizationId: t.id({ description: 'Only this organization’s requests.' }),
    credentialId: t.id({ description: 'Only requests for this credential.' }),
    requesterId: t.id({ description: 'Only this user’s requests.' }),
  }),
});

export type Filter = { states?: RequestState[] | null; organizationId?: string | number | null; credentialId?: string | number | null; requesterId?: string | number | null } | null | undefined;

export const RequestAccessInput = builder.inputType('RequestAccessInput', {
  description: 'What to ask for.',
  fields: (t) => ({
    credentialId: t.id({ required: true, description: 'Global id of the restricted credential.' }),
    policyId: t.id({ description: 'The policy to request under (default: the strictest covering policy the viewer may use).' }),
    type: t.field({ type: AccessRequestTypeEnum, description: 'What to ask for: released fields (default) or a recorded SSH session to the credential’s asset (only SESSION policies apply).' }),
    fields: t.field({ type: [ReleasableFieldEnum], description: 'Fields to release (default: every field of the credential the policy releases). Not for SESSION requests.' }),
    reason: t.string({ description: 'Why (up to 2000 characters); the policy may require it.' }),
    ticketNumber: t.string({ description: 'The ticket it is for (up to 100 characters); the policy may require it and its form.' }),
    startsAt: t.field({ type: 'DateTime', description: 'When the window opens (default now).' }),
    durationMinutes: t.int({ description: 'Window length in minutes (default: the policy’s default; at most its maximum).' }),
  }),
});
export const DecisionInput = (name: string, description: string) =>
  builder.inputType(name, {
    description,
    fields: (t) => ({
      id: t.id({ required: true, description: 'Global id of the request.' }),
      comment: t.string({ description: 'A comment for the history (up to 2000 characters).' }),
    }),
  });
export const ApproveInput = builder.inputType('ApproveAccessRequestInput', {
  description: 'An approval, optionally changing the window (when the policy allows, within its maximum).',
  fields: (t) => ({
    id: t.id({ required: true, description: 'Global id of the request.' }),
    comment: t.string({ description: 'A comment for the history.' }),
    startsAt: t.field({ type: 'DateTime', description: 'New start of the window.' }),
    durationMinutes: t.int({ description: 'New length of the window in minutes.' }),
  }),
});
export const BulkInput = (name: string, description: string) =>
  builder.inputType(name, {
    description,
    fields: (t) => ({
      ids: t.idList({ required: true, description: 'Global ids of the requests (1–100).' }),
      comment: t.string({ description: 'A comment recorded with each.' }),
    }),
  });
export const ResubmitInput = builder.inputType('ResubmitAccessRequestInput', {
  description: 'A new request from a denied, revoked or expired one; omitted fields are taken from it.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'Global id of the earlier request.' }),
    reason: t.string({ description: 'A new reason.' }),
    ticketNumber: t.string({ description: 'A new ticket number.' }),
    startsAt: t.field({ type: 'DateTime', description: 'When the new window opens (default now).' }),
    durationMinutes: t.int({ description: 'New window length in minutes.' }),
  }),
});
export const RemoveInput = builder.inputType('RemoveAccessRequestInput', {
  description: 'The finished request to hide from the viewer’s list.',
  fields: (t) => ({ id: t.id({ required: true, description: 'Global id of the request.' }) }),
});
