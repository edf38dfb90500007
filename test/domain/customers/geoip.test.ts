import { describe, expect, it } from 'vitest';
import { countryForIp } from '../../../src/domain/customers/geoip.js';

describe('countryForIp', () => {
  it.each([
    ['81.2.69.160', 'GB'],
    ['8.8.8.8', 'US'],
    ['5.9.0.1', 'DE'],
    ['2a00:1450:4001:82b::200e', 'DE'],
    ['::ffff:81.2.69.160', 'GB'],
  ])('places the public address %s in %s', (ip, country) => {
    expect(countryForIp(ip)).toBe(country);
  });

  it.each([
    ['IPv4 loopback', '127.0.0.1'],
    ['IPv6 loopback', '::1'],
    ['a private 10/8 address', '10.1.2.3'],
    ['a private 172.16/12 address', '172.20.0.5'],
    ['a private 192.168/16 address', '192.168.1.10'],
    ['a shared CGNAT address', '100.64.12.1'],
    ['a link-local address', '169.254.1.1'],
    ['an IPv6 unique-local address', 'fd12:3456:789a::1'],
    ['an IPv6 link-local address', 'fe80::1'],
    ['a documentation address', '2001:db8::1'],
    ['a loopback mapped into IPv6', '::ffff:127.0.0.1'],
    ['the unspecified address', '0.0.0.0'],
  ])('has no country for %s', (_what, ip) => {
    expect(countryForIp(ip)).toBeNull();
  });

  it.each(['', 'localhost', 'not an ip', '999.1.1.1', '1.2.3', '81.2.69.160/24'])('has no country for the malformed address "%s"', (ip) => {
    expect(countryForIp(ip)).toBeNull();
  });
});
