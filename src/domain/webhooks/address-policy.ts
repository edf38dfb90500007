import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { parseIpAddress } from '../bans/targets.js';
import { UserError } from '../../shared/errors.js';
import { codePointLength } from '../../shared/text.js';

// Where outgoing webhooks may be sent: the endpoint URL's shape and the addresses behind it.

export const WEBHOOK_URL_MAX_LENGTH = 2048;

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has (node:dns/promises `lookup(host, {all: true})`). */
export type HostLookup = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemHostLookup: HostLookup = async (hostname) => {
  const found = await dnsLookup(hostname, { all: true, verbatim: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

export interface UrlPolicy {
  /** The endpoint's own allowPrivate or the global WEBHOOK_ALLOW_PRIVATE_URLS. */
  allowPrivate: boolean;
  lookup?: HostLookup | undefined;
}

// ---------------------------------------------------------------------------------------------
// Where webhooks may go (SSRF)
//
// An endpoint URL is chosen by whoever holds a webhooks:write token, and the bot sends requests
// to it from inside the store's network. Without a check, `http://169.254.169.254/` (cloud
// metadata), `http://localhost:6379/` or `http://10.0.0.5/admin` would be reachable through us.
// Addresses are checked after resolution (a public-looking name can resolve to 127.0.0.1), again
// at every send (DNS can change after the check), and the connection is pinned to the address
// that was checked.

type Address = ipaddr.IPv4 | ipaddr.IPv6;

interface BlockedRange {
  range: [Address, number];
  reason: string;
}

function range(cidr: string, reason: string): BlockedRange {
  return { range: ipaddr.parseCIDR(cidr), reason };
}

// IPv4 ranges also cover the IPv4-mapped IPv6 form of their addresses (classifyAddress judges
// ::ffff:a.b.c.d as a.b.c.d). More specific ranges come first.
const BLOCKED_RANGES: readonly BlockedRange[] = [
  range('0.0.0.0/8', 'an unspecified ("this network") address'),
  range('10.0.0.0/8', 'a private address'),
  range('100.64.0.0/10', 'a carrier-grade NAT (shared) address'),
  range('127.0.0.0/8', 'a loopback address'),
  range('169.254.0.0/16', 'a link-local address'),
  range('172.16.0.0/12', 'a private address'),
  range('192.0.0.0/24', 'a reserved address'),
  range('192.0.2.0/24', 'a documentation address'),
  range('192.168.0.0/16', 'a private address'),
  range('198.18.0.0/15', 'a reserved (benchmarking) address'),
  range('198.51.100.0/24', 'a documentation address'),
  range('203.0.113.0/24', 'a documentation address'),
  range('224.0.0.0/4', 'a multicast address'),
  range('240.0.0.0/4', 'a reserved address'),
  range('::/128', 'an unspecified address'),
  range('::1/128', 'a loopback address'),
  // IPv4-compatible IPv6 (deprecated): nothing legitimate lives there.
  range('::/96', 'a reserved address'),
  range('64:ff9b:1::/48', 'a private (local NAT64) address'),
  range('100::/64', 'a reserved (discard) address'),
  range('2001::/32', 'a Teredo tunnel address'),
  range('2001:db8::/32', 'a documentation address'),
  range('fc00::/7', 'a private (unique local) address'),
  range('fe80::/10', 'a link-local address'),
  range('fec0::/10', 'a private (site-local) address'),
  range('ff00::/8', 'a multicast address'),
];

const NAT64 = ipaddr.parseCIDR('64:ff9b::/96');
const SIX_TO_FOUR = ipaddr.parseCIDR('2002::/16');

/** The IPv4 address an IPv6 address stands for (IPv4-mapped, NAT64, 6to4), or the address itself. */
function effectiveAddress(address: Address): Address {
  if (address instanceof ipaddr.IPv4) return address;
  if (address.isIPv4MappedAddress()) return address.toIPv4Address();
  const bytes = address.toByteArray();
  if (address.match(NAT64)) return new ipaddr.IPv4(bytes.slice(12, 16));
  if (address.match(SIX_TO_FOUR)) return new ipaddr.IPv4(bytes.slice(2, 6));
  return address;
}

/**
 * Why `address` may not receive webhooks ("a loopback address"), or null for a public address.
 * NAT64 (64:ff9b::/96) and 6to4 (2002::/16) addresses are judged by the IPv4 address they carry.
 */
export function classifyAddress(address: string): string | null {
  const parsed = parseIpAddress(address.replace(/^\[|\]$/g, '').trim());
  if (parsed === null) return 'not a valid IP address';
  const judged = effectiveAddress(parsed);
  for (const blocked of BLOCKED_RANGES) {
    if (judged.kind() === blocked.range[0].kind() && judged.match(blocked.range)) return blocked.reason;
  }
  return null;
}

function badUrl(message: string): UserError {
  return new UserError('invalid_url', message);
}

/**
 * Parses an endpoint URL with the WHATWG parser (which also normalises `http://2130706433/` and
 * `http://0x7f.1/` to `http://127.0.0.1/`, so the address checks see what will be dialled):
 * http(s) only, no credentials, at most 2048 characters. Returns the normalised URL.
 */
export function parseWebhookUrl(raw: string): URL {
  const text = raw.trim();
  if (text === '') throw badUrl('The URL is required.');
  if (codePointLength(text) > WEBHOOK_URL_MAX_LENGTH) throw badUrl(`The URL must be at most ${WEBHOOK_URL_MAX_LENGTH} characters.`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badUrl('The URL is not a valid absolute URL, e.g. https://example.com/webhooks.');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw badUrl(`The URL must start with https:// or http:// (not ${url.protocol}//).`);
  if (url.username !== '' || url.password !== '') throw badUrl('The URL must not contain a user name or password; the signing secret authenticates each delivery.');
  if (url.hostname === '') throw badUrl('The URL has no host.');
  url.hash = '';
  return url;
}

/** The host as the resolver and the socket want it: IPv6 literals without their brackets. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

/**
 * Resolves the URL's host to every address it has and, unless private targets are allowed,
 * refuses (UserError `invalid_url`, naming the address and why) when any of them is not public:
 * a name that resolves to a mix could be steered to the private one.
 */
export async function resolveWebhookTarget(url: URL, policy: UrlPolicy): Promise<ResolvedAddress[]> {
  const host = hostOf(url);
  let addresses: ResolvedAddress[];
  const literal = isIP(host);
  if (literal !== 0) {
    addresses = [{ address: host, family: literal === 6 ? 6 : 4 }];
  } else {
    try {
      addresses = await (policy.lookup ?? systemHostLookup)(host);
    } catch (error) {
      const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : 'no answer';
      throw new UserError('unresolvable_host', `The host ${host} could not be resolved (${code}).`);
    }
    if (addresses.length === 0) throw new UserError('unresolvable_host', `The host ${host} has no addresses.`);
  }
  if (!policy.allowPrivate) {
    for (const { address } of addresses) {
      const reason = classifyAddress(address);
      if (reason !== null) {
        const where = literal !== 0 ? `The URL points at ${address}` : `The URL's host ${host} resolves to ${address}`;
        throw badUrl(`${where}, ${reason}; webhooks may only be sent to public internet addresses.`);
      }
    }
  }
  return addresses;
}

/** Parses and checks an endpoint URL as it is saved; returns the normalised URL text. */
export async function checkWebhookUrl(raw: string, policy: UrlPolicy): Promise<string> {
  const url = parseWebhookUrl(raw);
  // With private targets allowed there is nothing to refuse, and a host that does not resolve
  // yet (a container that starts later) is no reason to refuse the endpoint.
  if (!policy.allowPrivate) {
    try {
      await resolveWebhookTarget(url, policy);
    } catch (error) {
      if (error instanceof UserError && error.code === 'unresolvable_host') throw badUrl(error.message);
      throw error;
    }
  }
  return url.href;
}
