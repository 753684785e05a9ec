import { describe, expect, it } from 'vitest';
import { matchesFilters, operatorFits, render, retryDelayMs, triggerOf, unknownVariables, type Subject, type WorkflowFilter } from '../../src/modules/workflow/workflow.rules.ts';
import { addressRefusal, urlRefusal } from '../../src/modules/workflow/workflow.transport.ts';

describe('triggerOf', () => {
  it.each([
    ['credential.reveal', {}, 'PASSWORD_ACCESS'],
    ['credential.copy', {}, 'PASSWORD_ACCESS'],
    ['credential.export', {}, 'PASSWORD_ACCESS'],
    ['credential.export_pdf', {}, 'PASSWORD_ACCESS'],
    ['credential.autofill', {}, 'PASSWORD_ACCESS'],
    ['credential.print', {}, 'PASSWORD_ACCESS'],
    ['credential.decrypt_failed', {}, null],
    ['credential.update', {}, null],
    ['access_request.create', { state: 'PENDING' }, 'ACCESS_REQUEST_PENDING'],
    ['access_request.resubmit', { state: 'PENDING' }, 'ACCESS_REQUEST_PENDING'],
    ['access_request.create', { state: 'AVAILABLE' }, 'ACCESS_REQUEST_DECIDED'],
    ['access_request.create', { state: 'EXPIRED' }, null],
    ['access_request.approve', { from: 'PENDING', to: 'PENDING' }, 'ACCESS_REQUEST_PENDING'],
    ['access_request.approve', { from: 'PENDING', to: 'APPROVED' }, 'ACCESS_REQUEST_DECIDED'],
    ['access_request.deny', { to: 'DENIED' }, 'ACCESS_REQUEST_DECIDED'],
    ['access_request.revoke', { to: 'REVOKED' }, 'ACCESS_REQUEST_DECIDED'],
    ['access_request.cancel', { to: 'CANCELLED' }, null],
    ['access_request.end', { to: 'EXPIRED' }, null],
    ['session.started', {}, 'SESSION_STARTED'],
    ['session.ended', { reason: 'CLIENT_CLOSED' }, 'SESSION_ENDED'],
    ['session.watch', {}, null],
    ['session.token_issued', {}, null],
  ])('%s %j → %s', (action, data, expected) => {
    expect(triggerOf(action, data)).toBe(expected);
  });
});

const subject: Subject = { credentialId: 'c1', organizationStatus: 'ACTIVE', updatedById: 'u1', categoryId: 'k1', name: 'Prod DB', username: 'root', url: 'https://db.example.com', notes: null };

describe('matchesFilters (all must match; text ignores case)', () => {
  it.each<[string, WorkflowFilter[], boolean]>([
    ['no filters', [], true],
    ['category ANY_OF hit', [{ field: 'CATEGORY', operator: 'ANY_OF', values: ['k1', 'k2'] }], true],
    ['category ANY_OF miss', [{ field: 'CATEGORY', operator: 'ANY_OF', values: ['k2'] }], false],
    ['category NONE_OF hit', [{ field: 'CATEGORY', operator: 'NONE_OF', values: ['k1'] }], false],
    ['category NONE_OF miss', [{ field: 'CATEGORY', operator: 'NONE_OF', values: ['k2'] }], true],
    ['credential ANY_OF', [{ field: 'CREDENTIAL', operator: 'ANY_OF', values: ['c1'] }], true],
    ['updated-by NONE_OF', [{ field: 'UPDATED_BY', operator: 'NONE_OF', values: ['u1'] }], false],
    ['organization status', [{ field: 'ORGANIZATION_STATUS', operator: 'ANY_OF', values: ['INACTIVE'] }], false],
    ['name CONTAINS', [{ field: 'NAME', operator: 'CONTAINS', values: ['prod'] }], true],
    ['name DOES_NOT_CONTAIN', [{ field: 'NAME', operator: 'DOES_NOT_CONTAIN', values: ['PROD'] }], false],
    ['url STARTS_WITH', [{ field: 'URL', operator: 'STARTS_WITH', values: ['https://'] }], true],
    ['username ENDS_WITH', [{ field: 'USERNAME', operator: 'ENDS_WITH', values: ['oot'] }], true],
    ['missing notes are empty', [{ field: 'NOTES', operator: 'DOES_NOT_CONTAIN', values: ['x'] }], true],
    ['one miss fails all', [{ field: 'NAME', operator: 'CONTAINS', values: ['prod'] }, { field: 'CATEGORY', operator: 'ANY_OF', values: ['k9'] }], false],
  ])('%s', (_label, filters, expected) => {
    expect(matchesFilters(filters, subject)).toBe(expected);
  });

  it('operators fit their fields', () => {
    expect(operatorFits('CATEGORY', 'ANY_OF')).toBe(true);
    expect(operatorFits('CATEGORY', 'CONTAINS')).toBe(false);
    expect(operatorFits('NAME', 'ENDS_WITH')).toBe(true);
    expect(operatorFits('NAME', 'NONE_OF')).toBe(false);
  });
});

describe('render escapes values for the target', () => {
  const vars = { 'credential.name': '<b>A & "B"</b>\r\nBcc: x@evil.test' };
  it.each([
    ['text', 'N: {{credential.name}}', 'N: <b>A & "B"</b>\r\nBcc: x@evil.test'],
    ['html', '<i>{{ credential.name }}</i>\nend', '&lt;i&gt;&lt;b&gt;A &amp; &quot;B&quot;&lt;/b&gt;<br>\nBcc: x@evil.test&lt;/i&gt;<br>\nend'],
    ['slack', '*{{credential.name}}*', '*&lt;b&gt;A &amp; "B"&lt;/b&gt;\r\nBcc: x@evil.test*'],
    ['header', 'S: {{credential.name}}', 'S: <b>A & "B"</b> Bcc: x@evil.test'],
  ] as const)('%s', (target, template, expected) => {
    expect(render(template, vars, target)).toBe(expected);
  });

  it('names unknown variables', () => {
    expect(unknownVariables('{{credential.name}} {{credential.password}} {{ nope }}')).toEqual(['credential.password', 'nope']);
  });

  it('backs off exponentially, capped at an hour', () => {
    expect([1, 2, 3, 4].map((a) => retryDelayMs(30_000, a))).toEqual([30_000, 60_000, 120_000, 240_000]);
    expect(retryDelayMs(30_000, 20)).toBe(3_600_000);
  });
});

describe('where webhooks may go', () => {
  it.each([
    ['169.254.169.254', true, 'link-local and metadata addresses are never called'],
    ['100.100.100.200', true, 'link-local and metadata addresses are never called'],
    ['fe80::1', true, 'link-local and metadata addresses are never called'],
    ['::ffff:169.254.169.254', true, 'link-local and metadata addresses are never called'],
    ['127.0.0.1', true, null],
    ['127.0.0.1', false, 'loopback and private addresses are not allowed'],
    ['::ffff:10.1.2.3', false, 'loopback and private addresses are not allowed'],
    ['172.20.0.1', false, 'loopback and private addresses are not allowed'],
    ['fd12::1', false, 'loopback and private addresses are not allowed'],
    ['93.184.216.34', false, null],
    ['2606:4700::1111', false, null],
    ['::ffff:93.184.216.34', false, null],
    // Issue 12: forms the hand-written blocklist missed.
    ['64:ff9b::7f00:1', false, 'loopback and private addresses are not allowed'],
    ['64:ff9b::7f00:1', true, 'only public unicast addresses are called'],
    ['64:ff9b::a9fe:a9fe', true, 'link-local and metadata addresses are never called'],
    ['64:ff9b::808:808', false, 'only public unicast addresses are called'],
    ['2002:7f00:1::', false, 'loopback and private addresses are not allowed'],
    ['2002:a9fe:a9fe::1', true, 'link-local and metadata addresses are never called'],
    ['::7f00:1', false, 'loopback and private addresses are not allowed'],
    ['::a9fe:a9fe', true, 'link-local and metadata addresses are never called'],
    ['::ffff:7f00:1', false, 'loopback and private addresses are not allowed'],
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', false, 'loopback and private addresses are not allowed'],
    ['224.0.0.1', true, 'only public unicast addresses are called'],
    ['239.255.255.250', true, 'only public unicast addresses are called'],
    ['240.0.0.1', true, 'only public unicast addresses are called'],
    ['255.255.255.255', true, 'only public unicast addresses are called'],
    ['ff02::1', true, 'only public unicast addresses are called'],
    ['0.0.0.0', true, 'link-local and metadata addresses are never called'],
    ['::', true, 'link-local and metadata addresses are never called'],
    ['fd00:ec2::254', true, 'link-local and metadata addresses are never called'],
    ['100.64.0.1', false, 'loopback and private addresses are not allowed'],
    ['198.18.0.1', true, null],
    ['192.0.2.1', false, 'only public unicast addresses are called'],
    ['2001:db8::1', false, 'only public unicast addresses are called'],
  ])('%s (private allowed: %s)', (address, allowPrivate, expected) => {
    expect(addressRefusal(address, allowPrivate)).toBe(expected);
  });

  it.each([
    ['https://hooks.slack.com/services/T/B/x', false, null],
    ['http://metadata.google.internal/', true, 'metadata endpoints are never called'],
    ['http://user:pass@example.com/', false, 'must not contain a user name or password'],
    ['file:///etc/passwd', true, 'must be an http or https URL'],
    ['http://localhost:8080/', false, 'loopback and private addresses are not allowed'],
    ['http://[::1]:8080/', false, 'loopback and private addresses are not allowed'],
    ['http://[64:ff9b::a9fe:a9fe]/', true, 'link-local and metadata addresses are never called'],
    ['http://[::ffff:169.254.169.254]/', true, 'link-local and metadata addresses are never called'],
    ['http://224.0.0.251/', true, 'only public unicast addresses are called'],
    ['not a url', false, 'must be an absolute URL'],
  ])('%s', (url, allowPrivate, expected) => {
    expect(urlRefusal(url, allowPrivate)).toBe(expected);
  });
});
