/**
 * An HTTP load generator, run as its own process so it has its own core and never competes with
 * the server it measures for the event loop. Keep-alive connections; either closed loop (each
 * connection sends its next request when the last one is answered) or open loop at a fixed rate,
 * where latency counts from the moment a request was due, so a stalled server cannot hide its
 * stall by delaying the requests it would have been sent.
 */
import { createHmac } from 'node:crypto';
import { Agent, request } from 'node:http';
import { summarize } from './stats.js';

export interface LoadConfig {
  url: string;
  kind: 'customer-get' | 'store-event';
  connections: number;
  durationMs: number;
  /** Requests per second (open loop); closed loop when absent. */
  rate?: number;
  /** API tokens, used in turn (each has its own rate limit). */
  tokens?: string[];
  /** Customer ids to ask for, inclusive. */
  idRange?: [number, number];
  secret?: string;
  /** Existing customers' emails the purchase events name; one in ten events names a new customer. */
  emails?: string[];
  firstOrderId?: number;
  eventPrefix?: string;
}

export interface LoadResult {
  requests: number;
  ok: number;
  statuses: Record<string, number>;
  seconds: number;
  throughput: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
}

let seq = 0;

function nextRequest(config: LoadConfig): { method: string; path: string; headers: Record<string, string>; body?: string } {
  seq += 1;
  if (config.kind === 'customer-get') {
    const [low, high] = config.idRange ?? [1, 1];
    const id = low + Math.floor(Math.random() * (high - low + 1));
    const tokens = config.tokens ?? [];
    return { method: 'GET', path: `/api/external/v1/customers/${id}`, headers: { authorization: `Bearer ${tokens[seq % Math.max(1, tokens.length)] ?? ''}` } };
  }
  const emails = config.emails ?? [];
  const orderId = (config.firstOrderId ?? 1) + seq;
  const existing = emails.length > 0 && seq % 10 !== 0;
  const email = existing ? (emails[seq % emails.length] ?? 'x@example.com') : `bench.new.${config.eventPrefix ?? 'run'}.${seq}@example.net`;
  const now = new Date().toISOString();
  const body = JSON.stringify({
    id: `${config.eventPrefix ?? 'evt_bench'}_${seq}`,
    event_type: 'order.paid',
    created_at: now,
    data: {
      id: orderId,
      order_number: `BENCH-${orderId}`,
      status: 'completed',
      total: '9.99',
      currency: 'USD',
      customer: { email, name: existing ? undefined : `Bench Buyer ${seq}` },
      items: [{ product_id: 1, product_name: 'VIP Rank', quantity: 1, price: '9.99' }],
      created_at: now,
      completed_at: now,
    },
  });
  const signature = createHmac('sha256', config.secret ?? '').update(body).digest('hex');
  return { method: 'POST', path: '/webhooks/store', headers: { 'content-type': 'application/json', 'x-pixlpay-signature': signature }, body };
}

export async function runLoad(config: LoadConfig): Promise<LoadResult> {
  const target = new URL(config.url);
  const agent = new Agent({ keepAlive: true, maxSockets: config.connections, maxFreeSockets: config.connections });
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let ok = 0;

  const send = (dueAt: number): Promise<void> =>
    new Promise((resolve) => {
      const spec = nextRequest(config);
      const req = request(
        { host: target.hostname, port: target.port, method: spec.method, path: spec.path, headers: spec.headers, agent },
        (res) => {
          res.on('data', () => undefined);
          res.on('end', () => {
            latencies.push(performance.now() - dueAt);
            const status = String(res.statusCode ?? 0);
            statuses[status] = (statuses[status] ?? 0) + 1;
            if (res.statusCode === 200) ok += 1;
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors += 1;
        resolve();
      });
      if (spec.body !== undefined) req.end(spec.body);
      else req.end();
    });

  const start = performance.now();
  const end = start + config.durationMs;
  if (config.rate === undefined) {
    await Promise.all(
      Array.from({ length: config.connections }, async () => {
        while (performance.now() < end) await send(performance.now());
      }),
    );
  } else {
    const interval = 1000 / config.rate;
    const inFlight = new Set<Promise<void>>();
    let due = start;
    while (due < end) {
      const now = performance.now();
      while (due <= now && due < end) {
        const p = send(due);
        inFlight.add(p);
        void p.then(() => inFlight.delete(p));
        due += interval;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(5, due - performance.now()))));
    }
    await Promise.all(inFlight);
  }
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  const summary = summarize(latencies);
  return {
    requests: latencies.length,
    ok,
    statuses,
    seconds,
    throughput: latencies.length / seconds,
    p50: summary.p50,
    p99: summary.p99,
    max: summary.max,
    errors,
  };
}

if (process.send && process.argv[2] === '--load') {
  const config = JSON.parse(process.argv[3] ?? '{}') as LoadConfig;
  const result = await runLoad(config);
  process.send(result, () => process.exit(0));
}
