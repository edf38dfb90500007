import { createHmac } from 'node:crypto';
import { startApiTestApp } from '../../support/api-app.js';
import { pick, seededRandom } from './random.js';

// Mutated purchase-event requests against POST /webhooks/store. Each request's verdict is
// predicted by a reference verifier written from the README's "Purchase events from the store"
// alone (not from the product's code); the product must agree on every request: no false accept,
// no false refusal, never a 5xx, and nothing stored from a refused request.

export const FUZZ_SECRET = 'fuzz-store-secret-0123456789';
const WRONG_SECRET = 'fuzz-store-secret-0123456789x';
const TOLERANCE_S = 5 * 60;

type Headers = Record<string, string | string[]>;

export interface SignatureFuzzResult {
  sent: number;
  /** Requests the reference verifier accepts (the control group, and legitimate variants). */
  legitimate: number;
  accepted: number;
  falseAccepts: number;
  falseRefusals: number;
  /** 5xx answers or exceptions from inject. */
  crashes: number;
  /** Rows in inbound_events that came from a request the reference refuses. */
  storedFromRefused: number;
  /** Refused requests answered with something other than 401. */
  wrongRefusalStatus: number;
  byKind: Record<string, number>;
  problems: string[];
}

function hex(secret: string, body: Buffer | string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

function standardSignature(secret: string, id: string, timestamp: string, body: Buffer | string): string {
  return `v1,${createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${id}.${timestamp}.`).update(body).digest('base64')}`;
}

/** The README's signature rules as a predicate: would a correct listener accept these headers and body? */
export function referenceAccepts(body: Buffer, headers: Headers, secret: string, nowS: number): boolean {
  const lower: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toLowerCase();
    lower[key] = key in lower ? [...[lower[key] as string | string[]].flat(), ...[value].flat()] : value;
  }
  const names = ['x-pixlpay-signature', 'x-webhook-signature', 'webhook-id', 'webhook-timestamp', 'webhook-signature', 'x-pixlpay-delivery-id', 'x-webhook-id'];
  if (names.some((n) => Array.isArray(lower[n]))) return false;
  const get = (n: string) => {
    const v = lower[n];
    return typeof v === 'string' ? v.trim() : undefined;
  };
  if (get('webhook-signature') !== undefined || get('webhook-timestamp') !== undefined) {
    const id = get('webhook-id');
    const ts = get('webhook-timestamp');
    const sigs = get('webhook-signature');
    if (!id || !ts || !sigs || !/^\d+$/.test(ts) || ts.length > 12) return false;
    if (Math.abs(nowS - Number(ts)) > TOLERANCE_S) return false;
    const expected = standardSignature(secret, id, ts, body);
    return sigs.split(/\s+/).includes(expected);
  }
  const a = get('x-pixlpay-signature');
  const b = get('x-webhook-signature');
  if (a !== undefined && b !== undefined && a.toLowerCase() !== b.toLowerCase()) return false;
  const given = a ?? b;
  if (!given || !/^[0-9a-fA-F]{64}$/.test(given)) return false;
  return given.toLowerCase() === hex(secret, body);
}

function flipBit(body: Buffer, random: () => number): Buffer {
  const out = Buffer.from(body);
  const bit = Math.floor(random() * out.length * 8);
  out[bit >> 3] = (out[bit >> 3] ?? 0) ^ (1 << (bit & 7));
  return out;
}

function eventBody(i: number, at: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      id: `evt_fuzz_${i}`,
      event_type: 'order.paid',
      created_at: at,
      data: {
        id: 700_000 + i,
        order_number: `ORD-FUZZ-${i}`,
        total: '4.99',
        currency: 'USD',
        customer: { email: `fuzz${i % 50}@example.com`, name: 'Fuzz' },
        items: [{ product_id: 5, product_name: 'VIP Rank', quantity: 1, price: '4.99' }],
      },
    }),
  );
}

interface Mutated {
  kind: string;
  body: Buffer;
  headers: Headers;
}

/** One mutated (or, for the control group, intact) request for event `i`. */
function mutate(i: number, random: () => number, nowS: number, at: string): Mutated {
  const body = eventBody(i, at);
  const id = `msg_fuzz_${i}`;
  const ts = String(nowS);
  const good = hex(FUZZ_SECRET, body);
  const goodStandard = standardSignature(FUZZ_SECRET, id, ts, body);
  const standard = (signature: string, timestamp = ts, webhookId = id): Headers => ({
    'webhook-id': webhookId,
    'webhook-timestamp': timestamp,
    'webhook-signature': signature,
  });
  const garbage = () => Buffer.from(Array.from({ length: 32 }, () => Math.floor(random() * 256))).toString('base64');
  const kinds: Array<[string, () => Omit<Mutated, 'kind'>]> = [
    ['control: valid hex signature', () => ({ body, headers: { 'x-pixlpay-signature': good } })],
    ['control: valid Standard Webhooks signature', () => ({ body, headers: standard(goodStandard) })],
    ['body bit flip (hex)', () => ({ body: flipBit(body, random), headers: { 'x-pixlpay-signature': good } })],
    ['body bit flip (Standard Webhooks)', () => ({ body: flipBit(body, random), headers: standard(goodStandard) })],
    ['body with a byte appended', () => ({ body: Buffer.concat([body, Buffer.from(pick(random, [' ', '\n', '\u0000', '}']))]), headers: { 'x-webhook-signature': good } })],
    ['wrong secret (hex)', () => ({ body, headers: { 'x-pixlpay-signature': hex(WRONG_SECRET, body) } })],
    ['wrong secret (Standard Webhooks)', () => ({ body, headers: standard(standardSignature(WRONG_SECRET, id, ts, body)) })],
    ['empty secret', () => ({ body, headers: { 'x-pixlpay-signature': hex('', body) } })],
    ['no signature header', () => ({ body, headers: pick<Headers>(random, [{}, { 'x-pixlpay-delivery-id': id }, { 'webhook-id': id }]) })],
    ['empty signature header', () => ({ body, headers: { [pick(random, ['x-pixlpay-signature', 'x-webhook-signature', 'webhook-signature'])]: '' } })],
    [
      'one Standard Webhooks header missing',
      () => {
        const headers: Headers = standard(goodStandard);
        delete headers[pick(random, ['webhook-id', 'webhook-timestamp', 'webhook-signature'])];
        // Sometimes with a valid hex signature beside it: only a lone webhook-id leaves that one in charge.
        if (random() < 0.5) headers['x-pixlpay-signature'] = good;
        return { body, headers };
      },
    ],
    ['doubled hex header', () => ({ body, headers: { 'x-pixlpay-signature': random() < 0.5 ? [good, good] : [hex(WRONG_SECRET, body), good] } })],
    ['doubled Standard Webhooks header', () => {
      const headers: Headers = standard(goodStandard);
      const name = pick(random, ['webhook-id', 'webhook-timestamp', 'webhook-signature']);
      headers[name] = [headers[name] as string, headers[name] as string];
      return { body, headers };
    }],
    ['doubled delivery id', () => ({ body, headers: { 'x-pixlpay-signature': good, 'x-pixlpay-delivery-id': [id, `${id}_2`] } })],
    ['two hex headers that disagree', () => ({ body, headers: { 'x-pixlpay-signature': good, 'x-webhook-signature': hex(WRONG_SECRET, body) } })],
    ['same header in two spellings', () => ({ body, headers: { 'X-Pixlpay-Signature': good, 'x-pixlpay-signature': hex(WRONG_SECRET, body) } })],
    [
      'timestamp skew, correctly signed',
      () => {
        const skew = Math.round((random() < 0.5 ? -1 : 1) * (random() < 0.3 ? random() * TOLERANCE_S * 1.2 : TOLERANCE_S + 1 + random() * 10 ** (1 + random() * 8)));
        const at = String(nowS + skew);
        return { body, headers: standard(standardSignature(FUZZ_SECRET, id, at, body), at) };
      },
    ],
    ['timestamp at the edge of the window', () => {
      const at = String(nowS + pick(random, [-301, -300, 300, 301]));
      return { body, headers: standard(standardSignature(FUZZ_SECRET, id, at, body), at) };
    }],
    ['timestamp not in seconds', () => {
      const at = pick(random, [String(nowS * 1000), `${nowS}.5`, `-${nowS}`, `0x${nowS.toString(16)}`, '', ' ', 'NaN', `${nowS}e0`, new Date(nowS * 1000).toISOString()]);
      return { body, headers: standard(standardSignature(FUZZ_SECRET, id, at, body), at) };
    }],
    ['signature for another webhook-id', () => ({ body, headers: standard(standardSignature(FUZZ_SECRET, `${id}x`, ts, body)) })],
    ['signature for another body', () => ({ body, headers: { 'x-pixlpay-signature': hex(FUZZ_SECRET, eventBody(i + 1, at)) } })],
    ['other scheme', () => {
      const b64 = Buffer.from(good, 'hex').toString('base64');
      return {
        body,
        headers: pick<Headers>(random, [
          { 'x-pixlpay-signature': `sha256=${good}` },
          { 'x-hub-signature-256': `sha256=${good}` },
          { authorization: `Bearer ${FUZZ_SECRET}` },
          { 'x-pixlpay-signature': b64 },
          { 'x-pixlpay-signature': good.slice(0, 63) },
          { 'x-pixlpay-signature': `${good}0` },
          { 'x-pixlpay-signature': `${good.slice(0, 62)}zz` },
          { 'x-pixlpay-signature': hex(FUZZ_SECRET, `${body.toString('utf8')}\n`) },
          { 'x-pixlpay-signature': createHmac('sha1', FUZZ_SECRET).update(body).digest('hex') },
          { 'x-pixlpay-signature': createHmac('sha512', FUZZ_SECRET).update(body).digest('hex').slice(0, 64) },
          standard(goodStandard.replace('v1,', 'v1a,')),
          standard(goodStandard.replace('v1,', 'v2,')),
          standard(goodStandard.replace('v1,', '')),
          standard(goodStandard.replace('v1,', 'V1,')),
          standard(`v1,${good}`),
        ]),
      };
    }],
    ['several Standard Webhooks signatures', () => {
      const count = 1 + Math.floor(random() * 5);
      const parts = Array.from({ length: count }, () => `v1,${garbage()}`);
      // Half of them carry the valid one among the others, which the scheme allows (key rotation).
      if (random() < 0.5) parts.splice(Math.floor(random() * (parts.length + 1)), 0, goodStandard);
      const separator = pick(random, [' ', ' ', '  ', ',', ';']);
      return { body, headers: standard(parts.join(separator)) };
    }],
  ];
  const [kind, build] = pick(random, kinds);
  return { kind, ...build() };
}

/** Sends `requests` mutated requests through `createHttpApp(deps).inject()` and compares each verdict. */
export async function runSignatureFuzz(options: { requests: number; seed: number }): Promise<SignatureFuzzResult> {
  const random = seededRandom(options.seed);
  const app = await startApiTestApp({ STORE_WEBHOOK_SECRET: FUZZ_SECRET });
  const nowS = Math.floor(app.clock.now().getTime() / 1000);
  const at = app.clock.now().toISOString();
  const result: SignatureFuzzResult = {
    sent: 0,
    legitimate: 0,
    accepted: 0,
    falseAccepts: 0,
    falseRefusals: 0,
    crashes: 0,
    storedFromRefused: 0,
    wrongRefusalStatus: 0,
    byKind: {},
    problems: [],
  };
  const refusedIds: string[] = [];
  const note = (text: string) => {
    if (result.problems.length < 20) result.problems.push(text);
  };
  try {
    for (let i = 0; i < options.requests; i++) {
      const request = mutate(i, random, nowS, at);
      result.byKind[request.kind] = (result.byKind[request.kind] ?? 0) + 1;
      const legitimate = referenceAccepts(request.body, request.headers, FUZZ_SECRET, nowS);
      if (legitimate) result.legitimate++;
      else refusedIds.push(`evt_fuzz_${i}`, `msg_fuzz_${i}`);
      result.sent++;
      let status: number;
      try {
        const response = await app.app.inject({
          method: 'POST',
          url: '/webhooks/store',
          headers: { 'content-type': 'application/json', ...request.headers },
          payload: request.body,
        });
        status = response.statusCode;
      } catch (error) {
        result.crashes++;
        note(`${request.kind}: inject threw ${String(error)}`);
        continue;
      }
      if (status >= 500) {
        result.crashes++;
        note(`${request.kind}: ${status}`);
      }
      const accepted = status >= 200 && status < 300;
      if (accepted) result.accepted++;
      if (accepted && !legitimate) {
        result.falseAccepts++;
        note(`${request.kind}: accepted ${JSON.stringify(request.headers).slice(0, 300)}`);
      }
      if (!accepted && legitimate) {
        result.falseRefusals++;
        note(`${request.kind}: refused with ${status} ${JSON.stringify(request.headers).slice(0, 300)}`);
      }
      if (!legitimate && status !== 401) result.wrongRefusalStatus++;
    }
    for (let start = 0; start < refusedIds.length; start += 500) {
      const rows = await app.db.selectFrom('inbound_events').select('id').where('id', 'in', refusedIds.slice(start, start + 500)).execute();
      result.storedFromRefused += rows.length;
      for (const row of rows) note(`stored from a refused request: ${row.id}`);
    }
  } finally {
    await app.close();
  }
  return result;
}
