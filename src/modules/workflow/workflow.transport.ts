import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { Transporter } from 'nodemailer';

// How workflow actions leave the process: SMTP (nodemailer) and HTTP POST (webhooks, Slack). Errors are
// reduced to short, fixed descriptions (status code, error code) so that no URL, credential or response body
// ever lands in the delivery log.

export type SendOutcome = { ok: boolean; statusCode: number | null; error: string | null };

/**
 * Where webhooks may go, by ipaddr.js's range classification (issue 12: a hand-written blocklist missed NAT64,
 * 6to4, IPv4-compatible IPv6 and 224.0.0.0/3). Only global unicast is called; with
 * WORKFLOW_ALLOW_PRIVATE_WEBHOOKS=true also loopback and private ranges. IPv6 forms that carry an IPv4 address
 * (IPv4-mapped, IPv4-compatible, NAT64 64:ff9b::/96, 6to4 2002::/16, Teredo) are judged by that IPv4 address too.
 */
const PRIVATE_RANGES = new Set(['loopback', 'private', 'carrierGradeNat', 'uniqueLocal']);
/** Private by range, but cloud metadata endpoints: never called, flag or not. */
const METADATA = new Set(['100.100.100.200', 'fd00:ec2::254']);
/** 198.18.0.0/15 (benchmarking) is "reserved" to ipaddr.js, but lab networks use it like a private range. */
const BENCHMARKING = ipaddr.parseCIDR('198.18.0.0/15');

const NEVER = 'link-local and metadata addresses are never called';
const PRIVATE = 'loopback and private addresses are not allowed';
const NOT_PUBLIC = 'only public unicast addresses are called';

/** The IPv4 address an IPv6 address carries by one of the transition mechanisms, if any. */
function embeddedIPv4(ip: ipaddr.IPv6): ipaddr.IPv4 | null {
  const range = ip.range();
  const bytes = ip.toByteArray();
  if (range === 'ipv4Mapped') return ip.toIPv4Address();
  if (range === 'rfc6052' || (range === 'unicast' && bytes.slice(0, 12).every((b) => b === 0))) {
    // NAT64 64:ff9b::/96 and the deprecated IPv4-compatible ::a.b.c.d: the last 32 bits.
    return new ipaddr.IPv4(bytes.slice(12, 16));
  }
  if (range === '6to4') return new ipaddr.IPv4(bytes.slice(2, 6));
  // Teredo: the client's address is stored inverted in the last 32 bits.
  if (range === 'teredo') return new ipaddr.IPv4(bytes.slice(12, 16).map((b) => b ^ 0xff));
  return null;
}

function judge(ip: ipaddr.IPv4 | ipaddr.IPv6, allowPrivate: boolean): string | null {
  if (METADATA.has(ip.toNormalizedString()) || METADATA.has(ip.toString())) return NEVER;
  const range = ip.range();
  if (range === 'unicast') return null;
  if (range === 'linkLocal' || range === 'unspecified') return NEVER;
  if (PRIVATE_RANGES.has(range) || (ip.kind() === 'ipv4' && (ip as ipaddr.IPv4).match(BENCHMARKING))) return allowPrivate ? null : PRIVATE;
  return NOT_PUBLIC;
}

/** Why an address may not be called, or null when it may. */
export function addressRefusal(address: string, allowPrivate: boolean): string | null {
  if (!ipaddr.isValid(address)) return 'not an IP address';
  const ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv6') {
    const v4 = embeddedIPv4(ip as ipaddr.IPv6);
    if (v4) {
      // The stricter of the two verdicts: a transition prefix may not launder a private or metadata IPv4 address.
      const inner = judge(v4, allowPrivate);
      if (inner) return inner;
      // IPv4-mapped is how sockets show IPv4 peers; NAT64, 6to4, Teredo and the deprecated IPv4-compatible form
      // reach IPv4 through relays or not at all, and are no global unicast themselves.
      return (ip as ipaddr.IPv6).range() === 'ipv4Mapped' ? null : NOT_PUBLIC;
    }
  }
  return judge(ip, allowPrivate);
}

const BLOCKED_HOSTNAMES = new Set(['metadata.google.internal', 'metadata.google.internal.', 'metadata', 'instance-data']);

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
  const bracketed = url.hostname.startsWith('[') && url.hostname.endsWith(']');
  const host = (bracketed ? url.hostname.slice(1, -1) : url.hostname).toLowerCase();
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
