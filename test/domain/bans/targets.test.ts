import { isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatAddressCount, formatIpHex, measureIpRange, normaliseBanTarget, parseBanDuration, parseIp, parseIpOrCidr } from '../../../src/domain/bans/targets.js';
import { UserError } from '../../../src/shared/errors.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const YEAR = 365 * DAY;

function refusal(run: () => unknown): UserError {
  try {
    run();
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
  throw new Error('expected a UserError');
}

function contains(range: string, address: string): boolean {
  const { start, end } = parseIpOrCidr(range);
  const { hex } = parseIp(address);
  return start <= hex && hex <= end;
}

describe('parseBanDuration', () => {
  it.each([
    ['permanent', null, 'permanent'],
    ['  PERMANENT ', null, 'permanent'],
    ['24h', 24 * HOUR, '24 hours'],
    ['7d', 7 * DAY, '7 days'],
    ['30d', 30 * DAY, '30 days'],
    ['90d', 90 * DAY, '90 days'],
    ['30m', 30 * MINUTE, '30 minutes'],
    ['12h', 12 * HOUR, '12 hours'],
    ['2w', 14 * DAY, '2 weeks'],
    ['1y', YEAR, '1 year'],
    ['1d12h', DAY + 12 * HOUR, '1 day 12 hours'],
    [' 1D 12H ', DAY + 12 * HOUR, '1 day 12 hours'],
    ['1 day 12 hours', DAY + 12 * HOUR, '1 day 12 hours'],
    ['12h1d', DAY + 12 * HOUR, '1 day 12 hours'],
    ['1m', MINUTE, '1 minute'],
    ['1 hr', HOUR, '1 hour'],
    ['3 weeks', 21 * DAY, '3 weeks'],
    ['10y', 10 * YEAR, '10 years'],
    ['3650d', 10 * YEAR, '3650 days'],
  ])('reads %j as %s ms ("%s")', (input, ms, label) => {
    expect(parseBanDuration(input)).toEqual({ ms, label });
  });

  it.each(['', '   ', '7', 'd', 'abc', 'forever', 'permanently', 'permanent 7d', '0m', '0d0h', '30s', '1.5d', '-1d', '+1d', '7x', '1mo', '10y1m', '11y', '3651d', '99999999999999999999d', '1d,12h'])(
    'refuses %j with the duration help text',
    (input) => {
      const error = refusal(() => parseBanDuration(input));
      expect(error.code).toBe('bad_duration');
      expect(error.message).toBe('Duration must be permanent, 24h, 7d, 30d, 90d or a length like 12h or 2w.');
    },
  );
});

describe('parseIp', () => {
  it('maps IPv4 into the IPv4-mapped IPv6 range', () => {
    expect(parseIp('10.1.2.3')).toEqual({ version: 4, hex: '00000000000000000000ffff0a010203' });
    expect(parseIp('0.0.0.0').hex).toBe('00000000000000000000ffff00000000');
    expect(parseIp('255.255.255.255').hex).toBe('00000000000000000000ffffffffffff');
  });

  it('gives IPv4 and its IPv4-mapped IPv6 form the same hex', () => {
    expect(parseIp('::ffff:10.1.2.3')).toEqual({ version: 6, hex: parseIp('10.1.2.3').hex });
    expect(parseIp('::FFFF:a01:203').hex).toBe(parseIp('10.1.2.3').hex);
    expect(parseIp('0:0:0:0:0:ffff:10.1.2.3').hex).toBe(parseIp('10.1.2.3').hex);
  });

  it.each([
    ['::', '00000000000000000000000000000000'],
    ['::1', '00000000000000000000000000000001'],
    ['1::', '00010000000000000000000000000000'],
    ['2001:DB8::1', '20010db8000000000000000000000001'],
    ['2001:db8:0:0:0:0:0:1', '20010db8000000000000000000000001'],
    ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008'],
    ['1:2:3:4:5:6:7::', '00010002000300040005000600070000'],
    ['::2:3:4:5:6:7:8', '00000002000300040005000600070008'],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'ffffffffffffffffffffffffffffffff'],
    ['64:ff9b::192.0.2.1', '0064ff9b0000000000000000c0000201'],
    ['::1.2.3.4', '00000000000000000000000001020304'],
    ['1:2:3:4:5:6:1.2.3.4', '00010002000300040005000601020304'],
    [' 2001:db8::1 ', '20010db8000000000000000000000001'],
  ])('parses %j', (text, hex) => {
    expect(parseIp(text)).toEqual({ version: 6, hex });
  });

  it.each([
    '',
    'localhost',
    '256.1.1.1',
    '1.2.3',
    '1.2.3.4.5',
    '01.2.3.4',
    '1.2.3.-4',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '1::2::3',
    ':::',
    ':1::',
    '1::2:',
    '12345::',
    'gggg::',
    'fe80::1%eth0',
    '1:2:3:4:5:6:7::1.2.3.4',
    '::1.2.3',
    '[::1]',
    '10.0.0.0/8',
  ])('refuses %j as bad_ip', (text) => {
    expect(refusal(() => parseIp(text)).code).toBe('bad_ip');
  });

  it('accepts exactly what node:net calls an address, for a sample of tricky forms', () => {
    const samples = ['::', '::1', '1::', '::ffff:1.2.3.4', '1:2:3:4:5:6:7:8', '1::8', '::2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '1.2.3.4', '1.2.3.04', '1:2:3:4:5:6:7:8:9', 'a::b::c', '::1.2.3.4'];
    for (const sample of samples) {
      const ours = (() => {
        try {
          parseIp(sample);
          return true;
        } catch {
          return false;
        }
      })();
      expect([sample, ours]).toEqual([sample, isIP(sample) !== 0]);
    }
  });
});

describe('parseIpOrCidr', () => {
  it.each([
    ['10.1.2.3', '10.1.2.3'],
    ['10.1.2.3/32', '10.1.2.3'],
    ['10.1.2.3/8', '10.0.0.0/8'],
    ['192.168.1.77/24', '192.168.1.0/24'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['8.8.8.8/0', '0.0.0.0/0'],
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['::ffff:10.9.9.9/104', '10.0.0.0/8'],
    ['::ffff:0:0/96', '0.0.0.0/0'],
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8::1/128', '2001:db8::1'],
    ['2001:db8:1234::1/32', '2001:db8::/32'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['1:0:0:2:0:0:3:4', '1::2:0:0:3:4'],
    ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
    ['1:2:3:4:5:6:7:0', '1:2:3:4:5:6:7:0'],
    ['::', '::'],
    ['::/0', '::/0'],
    ['ffff::1/0', '::/0'],
    ['::1.2.3.4', '::102:304'],
    ['::ffff:0:0/95', '::fffe:0:0/95'],
  ])('canonicalises %j as %j', (text, value) => {
    expect(parseIpOrCidr(text).value).toBe(value);
  });

  it('stores the first and last address of the range', () => {
    expect(parseIpOrCidr('10.1.2.3/8')).toEqual({
      value: '10.0.0.0/8',
      start: '00000000000000000000ffff0a000000',
      end: '00000000000000000000ffff0affffff',
    });
    expect(parseIpOrCidr('::/0')).toEqual({ value: '::/0', start: '0'.repeat(32), end: 'f'.repeat(32) });
    expect(parseIpOrCidr('0.0.0.0/0')).toMatchObject({ start: '00000000000000000000ffff00000000', end: '00000000000000000000ffffffffffff' });
    const single = parseIpOrCidr('2001:db8::1');
    expect(single.start).toBe(single.end);
  });

  it('contains the first and last address of a range and nothing either side', () => {
    expect(contains('192.168.1.0/24', '192.168.1.0')).toBe(true);
    expect(contains('192.168.1.0/24', '192.168.1.255')).toBe(true);
    expect(contains('192.168.1.0/24', '192.168.0.255')).toBe(false);
    expect(contains('192.168.1.0/24', '192.168.2.0')).toBe(false);
    expect(contains('2001:db8::/32', '2001:db8::')).toBe(true);
    expect(contains('2001:db8::/32', '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff')).toBe(true);
    expect(contains('2001:db8::/32', '2001:db7:ffff:ffff:ffff:ffff:ffff:ffff')).toBe(false);
    expect(contains('2001:db8::/32', '2001:db9::')).toBe(false);
  });

  it('matches a /32 and a /128 on exactly one address', () => {
    expect(contains('10.0.0.5/32', '10.0.0.5')).toBe(true);
    expect(contains('10.0.0.5/32', '10.0.0.4')).toBe(false);
    expect(contains('10.0.0.5/32', '10.0.0.6')).toBe(false);
    expect(contains('2001:db8::5/128', '2001:db8::5')).toBe(true);
    expect(contains('2001:db8::5/128', '2001:db8::4')).toBe(false);
    expect(contains('2001:db8::5/128', '2001:db8::6')).toBe(false);
  });

  it('keeps an IPv4 /0 to IPv4 while an IPv6 /0 covers everything', () => {
    expect(contains('0.0.0.0/0', '0.0.0.0')).toBe(true);
    expect(contains('0.0.0.0/0', '255.255.255.255')).toBe(true);
    expect(contains('0.0.0.0/0', '::ffff:1.2.3.4')).toBe(true);
    expect(contains('0.0.0.0/0', '2001:db8::1')).toBe(false);
    expect(contains('0.0.0.0/0', '::1')).toBe(false);
    expect(contains('::/0', '::')).toBe(true);
    expect(contains('::/0', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toBe(true);
    expect(contains('::/0', '10.0.0.1')).toBe(true);
  });

  it('treats an IPv4 range and the same IPv4-mapped IPv6 range as one', () => {
    expect(parseIpOrCidr('::ffff:10.0.0.0/104')).toEqual(parseIpOrCidr('10.0.0.0/8'));
    expect(contains('10.0.0.0/8', '::ffff:10.200.0.1')).toBe(true);
    expect(contains('::ffff:10.0.0.0/104', '10.200.0.1')).toBe(true);
    // The NAT64 prefix embeds IPv4 too, but it is a different network and must not match.
    expect(contains('10.0.0.0/8', '64:ff9b::10.0.0.1')).toBe(false);
  });

  it.each(['10.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/+8', '10.0.0.0/8/8', '10.0.0.0/ 8', '10.0.0.0/1000', '/8', 'example.com/24'])(
    'refuses %j as bad_ip',
    (text) => {
      const error = refusal(() => parseIpOrCidr(text));
      expect(error.code).toBe('bad_ip');
      expect(error.message).toContain('not an IP address or CIDR range');
    },
  );

  it('formats stored hex back to readable addresses', () => {
    expect(formatIpHex(parseIp('10.1.2.3').hex)).toBe('10.1.2.3');
    expect(formatIpHex(parseIp('2001:db8::1').hex)).toBe('2001:db8::1');
  });
});

describe('normaliseBanTarget', () => {
  it('lower-cases and shape-checks emails', () => {
    expect(normaliseBanTarget('email', '  Alice@Example.COM ')).toBe('alice@example.com');
    expect(normaliseBanTarget('email', 'first.last+tag@sub.example.co.uk')).toBe('first.last+tag@sub.example.co.uk');
    // Odd but registrable addresses ('a..b@example.com') are bannable: the store accepts them.
    expect(normaliseBanTarget('email', 'a..b@Example.com')).toBe('a..b@example.com');
    for (const bad of ['', 'alice', 'alice@', '@example.com', 'alice@example', 'a b@example.com', 'a@@example.com', 'a,b@example.com', '"a"@example.com', `${'a'.repeat(250)}@example.com`]) {
      const error = refusal(() => normaliseBanTarget('email', bad));
      expect([bad, error.code]).toEqual([bad, 'bad_email']);
      expect(error.message).toMatch(/email/i);
    }
  });

  it('accepts a Discord ID or a mention and refuses anything else', () => {
    expect(normaliseBanTarget('discord', '123456789012345678')).toBe('123456789012345678');
    expect(normaliseBanTarget('discord', '<@123456789012345678>')).toBe('123456789012345678');
    expect(normaliseBanTarget('discord', ' <@!12345678901234567> ')).toBe('12345678901234567');
    expect(normaliseBanTarget('discord', '12345678901234567890')).toBe('12345678901234567890');
    for (const bad of ['', '1234567890123456', '123456789012345678901', 'alice#1234', '<@&123456789012345678>', '<#123456789012345678>', '12345678901234567x']) {
      const error = refusal(() => normaliseBanTarget('discord', bad));
      expect([bad, error.code]).toEqual([bad, 'bad_discord_id']);
      expect(error.message).toMatch(/Discord/);
    }
  });

  it('accepts a game id, reducing a Steam profile link to its SteamID64', () => {
    expect(normaliseBanTarget('game_id', ' Notch ')).toBe('Notch');
    expect(normaliseBanTarget('game_id', '76561198000000001')).toBe('76561198000000001');
    expect(normaliseBanTarget('game_id', 'https://steamcommunity.com/profiles/76561198000000001/')).toBe('76561198000000001');
    expect(normaliseBanTarget('game_id', 'steamcommunity.com/profiles/76561198000000001')).toBe('76561198000000001');
    expect(normaliseBanTarget('game_id', 'https://steamcommunity.com/openid/id/76561198000000001')).toBe('76561198000000001');
    expect(normaliseBanTarget('game_id', 'x'.repeat(64))).toBe('x'.repeat(64));
    for (const bad of ['', '   ', 'x'.repeat(65), 'https://steamcommunity.com/id/somevanity', 'a\u0000b']) {
      const error = refusal(() => normaliseBanTarget('game_id', bad));
      expect([bad, error.code]).toEqual([bad, 'bad_game_id']);
      expect(error.message).toMatch(/game ID|Steam/);
    }
  });

  it('reads a customer id as id:N, #N or N', () => {
    expect(normaliseBanTarget('customer', 'id:123')).toBe('123');
    expect(normaliseBanTarget('customer', 'ID: 123')).toBe('123');
    expect(normaliseBanTarget('customer', '#123')).toBe('123');
    expect(normaliseBanTarget('customer', ' 0123 ')).toBe('123');
    for (const bad of ['', '0', '#0', '-5', '12.5', 'alice@example.com', '1234567890123456', 'id:']) {
      const error = refusal(() => normaliseBanTarget('customer', bad));
      expect([bad, error.code]).toEqual([bad, 'bad_customer_id']);
      expect(error.message).toMatch(/customer/);
    }
  });

  it('canonicalises IP targets and refuses bad ones', () => {
    expect(normaliseBanTarget('ip', ' 10.1.2.3/8 ')).toBe('10.0.0.0/8');
    expect(normaliseBanTarget('ip', '2001:DB8::1')).toBe('2001:db8::1');
    expect(refusal(() => normaliseBanTarget('ip', 'nope')).code).toBe('bad_ip');
  });
});

describe('measureIpRange', () => {
  const measure = (text: string) => measureIpRange(parseIpOrCidr(text));

  it('calls IPv4 ranges wider than /16 and IPv6 ranges wider than /32 wide, and no narrower ones', () => {
    expect(measure('10.0.0.0/15')).toMatchObject({ version: 4, prefix: 15, wide: true });
    expect(measure('10.0.0.0/16')).toMatchObject({ version: 4, prefix: 16, wide: false, addresses: 65_536n });
    expect(measure('2001:db8::/31')).toMatchObject({ version: 6, prefix: 31, wide: true });
    expect(measure('2001:db8::/32')).toMatchObject({ version: 6, prefix: 32, wide: false });
  });

  it('measures the whole of IPv4 written either way as IPv4 /0', () => {
    expect(measure('0.0.0.0/0')).toMatchObject({ version: 4, prefix: 0, hostBits: 32, wide: true });
    expect(measure('::ffff:0:0/96')).toMatchObject({ version: 4, prefix: 0, wide: true });
    expect(measure('::/0')).toMatchObject({ version: 6, prefix: 0, hostBits: 128, wide: true });
  });

  it('writes counts a person can read', () => {
    expect(formatAddressCount(measure('203.0.113.7'))).toBe('1 address');
    expect(formatAddressCount(measure('10.0.0.0/8'))).toBe('16,777,216 addresses');
    expect(formatAddressCount(measure('::/0'))).toBe('2^128 addresses (about 3.4 × 10^38)');
  });
});

describe('measureIpRange over every prefix', () => {
  it('gives an IPv4 /n 2^(32-n) addresses, wide exactly below /16', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 32 }), (address, prefix) => {
        const size = measureIpRange(parseIpOrCidr(`${address}/${prefix}`));
        expect(size).toMatchObject({ version: 4, prefix, addresses: 2n ** BigInt(32 - prefix), wide: prefix < 16 });
      }),
    );
  });

  it('gives an IPv6 /n outside the IPv4-mapped block 2^(128-n) addresses, wide exactly below /32', () => {
    fc.assert(
      fc.property(fc.ipV6(), fc.integer({ min: 0, max: 128 }), (address, prefix) => {
        const range = parseIpOrCidr(`${address}/${prefix}`);
        fc.pre(!range.value.includes('.'));
        expect(measureIpRange(range)).toMatchObject({ version: 6, prefix, addresses: 2n ** BigInt(128 - prefix), wide: prefix < 32 });
      }),
    );
  });
});
