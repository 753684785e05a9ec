// The credential part of the schema, 2 of 4: input types (filters, order, secrets, mutation inputs).
import { builder } from '../../graphql/builder.ts';
import { AccessSurfaceEnum, CategoryMatchEnum, CredentialKindEnum, CredentialOrderFieldEnum, ExportFormatEnum, OrderDirectionEnum, RevealFieldEnum } from './credential.types.ts';

export const CredentialFilterInput = builder.inputType('CredentialFilter', {
  description: 'Which credentials to list. All given conditions must match.',
  fields: (t) => ({
    organizationId: t.id({ required: true, description: 'Global id of the organization.' }),
    categoryIds: t.idList({ description: 'Categories to match (see categoryMatch).' }),
    categoryMatch: t.field({ type: CategoryMatchEnum, description: 'ANY_OF (default) or NONE_OF the categoryIds.' }),
    folderId: t.id({ description: 'Only credentials in this folder.' }),
    includeSubfolders: t.boolean({ description: 'With folderId: include every folder below it.' }),
    search: t.string({ description: 'Name, username, url or notes contains this (case-insensitive).' }),
    nameContains: t.string({ description: 'Name contains (case-insensitive).' }),
    usernameContains: t.string({ description: 'Username contains (case-insensitive).' }),
    urlContains: t.string({ description: 'URL contains (case-insensitive).' }),
    notesContains: t.string({ description: 'Notes contain (case-insensitive).' }),
    restricted: t.boolean({ description: 'Only restricted (true) or only ordinary (false).' }),
    kinds: t.field({ type: [CredentialKindEnum], description: 'Only these kinds.' }),
    archived: t.boolean({ description: 'True lists archived credentials instead of those in use.' }),
    staleDays: t.int({ description: 'Only credentials whose secret has not changed for this many days.' }),
  }),
});
export const CredentialOrderInput = builder.inputType('CredentialOrder', {
  description: 'Sort order of a credential list.',
  fields: (t) => ({
    field: t.field({ type: CredentialOrderFieldEnum, required: true, description: 'What to sort by.' }),
    direction: t.field({ type: OrderDirectionEnum, required: true, description: 'Which way.' }),
  }),
});

const ApiKeySecretInput = builder.inputType('ApiKeySecretInput', {
  description: 'One API key of an API_KEY credential.',
  fields: (t) => ({
    clientIdentifier: t.string({ required: true, description: 'The client id.' }),
    clientSecret: t.string({ required: true, description: 'The client secret (stored encrypted).' }),
    secretIdentifier: t.string({ description: 'The secret’s own identifier, if any.' }),
  }),
});
const AutofillSelectorInput = builder.inputType('AutofillSelectorInput', {
  description: 'An autofill hint.',
  fields: (t) => ({
    field: t.string({ required: true, description: 'What to fill.' }),
    selector: t.string({ required: true, description: 'CSS selector of the input.' }),
  }),
});
export const PasswordGeneratorInput = builder.inputType('PasswordGeneratorInput', {
  description: 'Options for a generated password (cryptographically random).',
  fields: (t) => ({
    length: t.int({ description: '8 to 256 characters (default 24).' }),
    symbols: t.boolean({ description: 'Include symbols (default true).' }),
    digits: t.boolean({ description: 'Include digits (default true).' }),
    uppercase: t.boolean({ description: 'Include upper-case letters (default true).' }),
    lowercase: t.boolean({ description: 'Include lower-case letters (default true).' }),
    excludeAmbiguous: t.boolean({ description: 'Leave out look-alikes such as l, 1, O and 0 (default false).' }),
  }),
});
const SecretInputType = builder.inputType('SecretInput', {
  description: 'Secret material; which parts apply depends on the credential’s kind.',
  fields: (t) => ({
    password: t.string({ description: 'PASSWORD: the password.' }),
    otpSecret: t.string({ description: 'PASSWORD: a TOTP seed in base32, or an otpauth:// URI.' }),
    apiKeys: t.field({ type: [ApiKeySecretInput], description: 'API_KEY: the keys (replaces the whole set).' }),
    privateKey: t.string({ description: 'SSH_KEY: the private key (OpenSSH or PEM).' }),
    passphrase: t.string({ description: 'SSH_KEY: the key’s passphrase.' }),
  }),
});

export const CreateCredentialInput = builder.inputType('CreateCredentialInput', {
  description: 'A new credential with its first version of secret material.',
  fields: (t) => ({
    organizationId: t.id({ required: true, description: 'Global id of the organization.' }),
    kind: t.field({ type: CredentialKindEnum, required: true, description: 'What it holds.' }),
    name: t.string({ required: true, description: 'Name, up to 255 characters.' }),
    username: t.string({ description: 'User name.' }),
    url: t.string({ description: 'URL or host.' }),
    notes: t.string({ description: 'Notes as HTML; scripts and event handlers are refused, other markup sanitised.' }),
    categoryId: t.id({ description: 'Category (same organization).' }),
    folderId: t.id({ description: 'Folder (same organization).' }),
    restricted: t.boolean({ description: 'Reveal only through access requests (default false).' }),
    resourceType: t.string({ description: 'Type of the resource it is embedded in.' }),
    resourceId: t.string({ description: 'Id of that resource.' }),
    autofillSelectors: t.field({ type: [AutofillSelectorInput], description: 'Autofill hints.' }),
    password: t.string({ description: 'PASSWORD: the password (or use generate).' }),
    otpSecret: t.string({ description: 'PASSWORD: a TOTP seed in base32, or an otpauth:// URI.' }),
    apiKeys: t.field({ type: [ApiKeySecretInput], description: 'API_KEY: one or more keys.' }),
    privateKey: t.string({ description: 'SSH_KEY: the private key.' }),
    passphrase: t.string({ description: 'SSH_KEY: its passphrase.' }),
    generate: t.field({ type: PasswordGeneratorInput, description: 'PASSWORD: generate the password instead of giving one.' }),
  }),
});
export const UpdateCredentialInput = builder.inputType('UpdateCredentialInput', {
  description: 'Metadata changes; omitted fields stay, null clears. Secret material changes through rotateCredential.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'Global id of the credential.' }),
    name: t.string({ description: 'New name.' }),
    username: t.string({ description: 'New user name.' }),
    url: t.string({ description: 'New URL.' }),
    notes: t.string({ description: 'New notes (HTML).' }),
    categoryId: t.id({ description: 'New category; null for none.' }),
    folderId: t.id({ description: 'New folder; null for the top level.' }),
    restricted: t.boolean({ description: 'Restricted or not.' }),
    resourceType: t.string({ description: 'Embedding resource type.' }),
    resourceId: t.string({ description: 'Embedding resource id.' }),
    autofillSelectors: t.field({ type: [AutofillSelectorInput], description: 'Autofill hints (replaces all).' }),
  }),
});
export const RotateCredentialInput = builder.inputType('RotateCredentialInput', {
  description: 'New secret material (or a generated password) stored as the next version.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'Global id of the credential.' }),
    newSecret: t.field({ type: SecretInputType, description: 'The parts that change; the rest carries forward.' }),
    generate: t.field({ type: PasswordGeneratorInput, description: 'PASSWORD: generate a new password.' }),
    reason: t.string({ required: true, description: 'Why it is rotated (kept with the version).' }),
  }),
});
export const CredentialIdInput = (name: string, description: string) =>
  builder.inputType(name, { description, fields: (t) => ({ id: t.id({ required: true, description: 'Global id of the credential.' }) }) });
export const RevealCredentialInput = builder.inputType('RevealCredentialInput', {
  description: 'Which secret to reveal. Every reveal is recorded.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'Global id of the credential.' }),
    field: t.field({ type: RevealFieldEnum, required: true, description: 'Which secret.' }),
    version: t.int({ description: 'An earlier version (default: current).' }),
    keyId: t.id({ description: 'API_KEY_SECRET: which key (needed when there are several).' }),
    purpose: t.string({ description: 'Why, for the record (up to 500 characters).' }),
  }),
});
export const RecordCredentialAccessInput = builder.inputType('RecordCredentialAccessInput', {
  description: 'A client-side access to report (copy, autofill, PDF export, print).',
  fields: (t) => ({
    id: t.id({ required: true, description: 'Global id of the credential.' }),
    surface: t.field({ type: AccessSurfaceEnum, required: true, description: 'How the secret was used (not REVEAL or EXPORT: the server records those).' }),
    field: t.field({ type: RevealFieldEnum, description: 'Which secret (default PASSWORD).' }),
    version: t.int({ description: 'Which version (default current).' }),
  }),
});
export const ExportCredentialsInput = builder.inputType('ExportCredentialsInput', {
  description: 'What to export.',
  fields: (t) => ({
    organizationId: t.id({ required: true, description: 'Global id of the organization.' }),
    filter: t.field({ type: CredentialFilterInput, description: 'Which credentials (its organizationId must match).' }),
    format: t.field({ type: ExportFormatEnum, required: true, description: 'CSV or JSON.' }),
    includeSecrets: t.boolean({ required: true, description: 'Include secrets (ADMIN only; each one recorded as an EXPORT access).' }),
  }),
});
