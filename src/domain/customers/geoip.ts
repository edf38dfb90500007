import { createRequire } from 'node:module';
import { BlockList, isIP } from 'node:net';

// The country a customer is seen from, from an offline database shipped in the `geoip-country`
// npm package (MaxMind GeoLite2 Country, IPv4 and IPv6). Never a web service: an address is
// personal data and does not leave the machine.
//
// Licence: GeoLite2 data is CC BY-SA 4.0 under MaxMind's GeoLite2 EULA, which asks for the
// attribution "This product includes GeoLite2 data created by MaxMind, available from
// https://www.maxmind.com" and for the database to be kept current (updating the package does it).

interface GeoIpCountryModule {
  lookup(ip: string): { country?: unknown } | null;
}

let database: GeoIpCountryModule | undefined;

/**
 * The package reads its ~8 MB of tables synchronously when first required; loading it on first
 * use keeps start-up and every test that never looks a country up free of that cost.
 */
function loadDatabase(): GeoIpCountryModule {
  database ??= createRequire(import.meta.url)('geoip-country') as GeoIpCountryModule;
  return database;
}

// Addresses that are not anyone's location: the database has no country for them, but saying so
// here keeps the answer right whatever a future database version ships for these ranges.
const NOT_ON_THE_INTERNET = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NOT_ON_THE_INTERNET.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['2001:db8::', 32],
  ['100::', 64],
] as const) {
  NOT_ON_THE_INTERNET.addSubnet(network, prefix, 'ipv6');
}

const IPV4_MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;
const COUNTRY = /^[A-Z]{2}$/;

/**
 * ISO 3166-1 alpha-2 country of a public IPv4 or IPv6 address (an IPv4-mapped IPv6 address counts
 * as its IPv4 address), or null for a private, loopback, link-local, documentation or malformed
 * address, or one the database does not place.
 */
export function countryForIp(ip: string): string | null {
  let address = ip.trim();
  const mapped = IPV4_MAPPED.exec(address);
  if (mapped?.[1]) address = mapped[1];
  const family = isIP(address);
  if (family === 0) return null;
  if (NOT_ON_THE_INTERNET.check(address, family === 4 ? 'ipv4' : 'ipv6')) return null;
  const country = loadDatabase().lookup(address)?.country;
  return typeof country === 'string' && COUNTRY.test(country) ? country : null;
}
