import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import type { Transporter } from 'nodemailer';

// How workflow actions leave the process: SMTP (nodemailer) and HTTP POST (webhooks, Slack). Errors are
// reduced to short, fixed descriptions (status code, error code) so that no URL, credential or response body
// ever lands in the delivery log.

export type SendOutcome = { ok: boolean; statusCode: number | null; error: string | null };

/** Never reachable, flag or not: link-local (cloud metadata lives there) and known metadata endpoints. */
const ALWAYS_BLOCKED = new BlockList();
ALWAYS_BLOCKED.addSubnet('169.254.0.0', 16, 'ipv4');
ALWAYS_BLOCKED.addAddress('100.100.100.200', 'ipv4');
ALWAYS_BLOCKED.addSubnet('0.0.0.0', 8, 'ipv4');
ALWAYS_BLOCKED.addSubnet('fe80::', 10, 'ipv6');
ALWAYS_BLOCKED.addAddress('fd00:ec2::254', 'ipv6');
ALWAYS_BLOCKED.addAddress('::', 'ipv6');

/** Reachable only with WORKFLOW_ALLOW_PRIVATE_WEBHOOKS=true: loopback, private, shared and unique-local ranges. */
const PRIVATE = new BlockList();
PRIVATE.addSubnet('127.0.0.0', 8, 'ipv4');
PRIVATE.addSubnet('10.0.0.0', 8, 'ipv4');
PRIVATE.addSubnet('172.16.0.0', 12, 'ipv4');
PRIVATE.addSubnet('192.168.0.0', 16, 'ipv4');
PRIVATE.addSubnet('100.64.0.0', 10, 'ipv4');
PRIVATE.addSubnet('198.18.0.0', 15, 'ipv4');
PRIVATE.addAddress('::1', 'ipv6');
PRIVATE.addSubnet('fc00::', 7, 'ipv6');

const BLOCKED_HOSTNAMES = new Set(['metadata.google.internal', 'metadata.google.internal.', 'metadata', 'instance-data']);

/** Why an address may not be called, or null when it may. IPv4-mapped IPv6 addresses are judged as IPv4. */
export function addressRefusal(address: string, allowPrivate: boolean): string | null {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const ip = mapped ? mapped[1] : address;
  const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
  if (ALWAYS_BLOCKED.check(ip, family)) return 'link-local and metadata addresses are never called';
  if (!allowPrivate && PRIVATE.check(ip, family)) return 'loopback and private addresses are not allowed';
  return null;
}

/**
 * Checks a URL before it is stored or called: http(s) only, no credentials in it, not a refused hostname or
 * literal address. Hostnames are checked again, resolved, on every call (DNS can change).
 */
export function urlRefusal(raw: string, allowPrivate: boolean): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http or https URL';
  if (url.username || url.password) return 'must not contain a user name or password';
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (BLOCKED_HOSTNAMES.has(host)) return 'metadata endpoints are never called';
  if (isIP(host)) return addressRefusal(host, allowPrivate);
  if (!allowPrivate && (host === 'localhost' || host.endsWith('.localhost'))) return 'loopback and private addresses are not allowed';
  return null;
}

/** A DNS lookup that refuses forbidden addresses, so the connection goes only to an address that was checked. */
function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as unknown as LookupAddress[];
      const refused = list.map((a) => addressRefusal(a.address, allowPrivate)).find((r) => r !== null);
      if (refused || list.length === 0) {
        const e = Object.assign(new Error(refused ?? 'no address'), { code: 'EADDRREFUSED' });
        return callback(e, '', 0);
      }
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
      return callback(null, list[0].address, list[0].family);
    });
  };
}

export type PostOptions = { url: string; body: string; headers: Record<string, string>; allowPrivate: boolean; timeoutMs?: number };

/** POSTs JSON; 2xx is delivered. Redirects are not followed (a redirect could lead anywhere). */
export function postJson(o: PostOptions): Promise<SendOutcome> {
  const refused = urlRefusal(o.url, o.allowPrivate);
  if (refused) return Promise.resolve({ ok: false, statusCode: null, error: `refused: ${refused}` });
  const url = new URL(o.url);
  const requestFn = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = requestFn(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(o.body), 'user-agent': 'vaultgate-workflows', ...o.headers },
        lookup: guardedLookup(o.allowPrivate),
        timeout: o.timeoutMs ?? 10_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          resolve({ ok: status >= 200 && status < 300, statusCode: status, error: status >= 200 && status < 300 ? null : `HTTP ${status}` });
        });
        res.on('error', () => resolve({ ok: false, statusCode: res.statusCode ?? null, error: 'response interrupted' }));
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => {
      resolve({ ok: false, statusCode: null, error: err.code === 'EADDRREFUSED' ? `refused: ${err.message}` : `connection failed (${err.code ?? 'error'})` });
    });
    req.end(o.body);
  });
}

export type Mail = { to: string[]; subject: string; text: string; html: string };

/** Sends workflow mail through SMTP_URL. One transport per app; connections are opened per message. */
export class Mailer {
  private transport: Transporter | null = null;

  constructor(private readonly smtpUrl: string | undefined, private readonly from: string) {}

  get configured(): boolean {
    return Boolean(this.smtpUrl);
  }

  async send(mail: Mail): Promise<SendOutcome> {
    if (!this.smtpUrl) return { ok: false, statusCode: null, error: 'SMTP is not configured (SMTP_URL)' };
    // Loaded on the first mail: most installations send none, and the module is a large part of start-up.
    this.transport ??= (await import('nodemailer')).default.createTransport(this.smtpUrl, { from: this.from });
    // Per-message timeouts: a hung server fails this attempt, it does not stall the worker.
    try {
      await this.transport.sendMail({ from: this.from, to: mail.to, subject: mail.subject, text: mail.text, html: mail.html, disableFileAccess: true, disableUrlAccess: true });
      return { ok: true, statusCode: null, error: null };
    } catch (err) {
      const e = err as { code?: string; responseCode?: number };
      return { ok: false, statusCode: e.responseCode ?? null, error: `SMTP ${e.code ?? 'error'}${e.responseCode ? ` ${e.responseCode}` : ''}` };
    }
  }

  close(): void {
    this.transport?.close();
  }
}
