import type { TxClient } from '../../db/client.ts';
import type { Workflow } from '../../generated/prisma-sqlite/client.ts';
import { decryptField, encryptField, sealedKeyVersion } from '../../lib/crypto/envelope.ts';
import type { Keyring } from '../keys/keyring.ts';
import type { WorkflowFilter, WorkflowTrigger } from './workflow.rules.ts';

// A workflow as stored: its row parsed into trigger, filters and actions, and its sealed values. Shared by the
// service (writes), matching and delivery, which is why it is none of them.

export const ACTION_TYPES = ['EMAIL', 'WEBHOOK', 'SLACK'] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

/** An action as stored. A Slack URL is sealed: whoever holds it can post to the channel. */
export type StoredAction =
  | { type: 'EMAIL'; recipients: string[]; subject: string; body: string }
  | { type: 'WEBHOOK'; url: string }
  | { type: 'SLACK'; sealedUrl: string; urlHint: string; message: string };

export type ParsedWorkflow = Omit<Workflow, 'filters' | 'actions' | 'trigger'> & {
  trigger: WorkflowTrigger;
  filters: WorkflowFilter[];
  actions: StoredAction[];
  row: Workflow;
};

export function parseWorkflow(row: Workflow): ParsedWorkflow {
  return {
    ...row,
    row,
    trigger: row.trigger as WorkflowTrigger,
    filters: JSON.parse(row.filters) as WorkflowFilter[],
    actions: JSON.parse(row.actions) as StoredAction[],
  };
}

// --- sealed values (the signing secret, Slack URLs) ---

type SealedField = 'SIGNING_SECRET' | 'SLACK_URL';

/** Seals under the organization's newest data key, bound to the workflow and the field. */
export async function sealWorkflowValue(tx: TxClient, keyring: Keyring, organizationId: string, workflowId: string, field: SealedField, plaintext: string) {
  const key = await keyring.current(tx, organizationId);
  return encryptField(key.key, plaintext, { organizationId, credentialId: `workflow:${workflowId}`, field, version: 1, keyVersion: key.version });
}

export async function openWorkflowValue(tx: TxClient, keyring: Keyring, organizationId: string, workflowId: string, field: SealedField, sealed: string) {
  const keyVersion = sealedKeyVersion(sealed);
  const key = await keyring.byVersion(tx, organizationId, keyVersion);
  return decryptField(key, sealed, { organizationId, credentialId: `workflow:${workflowId}`, field, version: 1, keyVersion });
}
