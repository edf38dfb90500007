import type { RecordedRequest } from './types.js';

/** Every REST request the fake received, and the waiters told when one is answered. */
export class RequestLog {
  readonly requests: RecordedRequest[] = [];
  readonly #waiters = new Set<(request: RecordedRequest) => void>();

  add(record: RecordedRequest): void {
    this.requests.push(record);
  }

  finish(record: RecordedRequest, status: number): void {
    record.status = status;
    for (const waiter of [...this.#waiters]) waiter(record);
  }

  /** The first answered request that matches, whether already answered or answered within `ms`. */
  waitFor(match: (request: RecordedRequest) => boolean, ms: number): Promise<RecordedRequest> {
    const done = this.requests.find((request) => request.status !== 0 && match(request));
    if (done) return Promise.resolve(done);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        const seen = this.requests.slice(-10).map((request) => `${request.method} ${request.path} → ${request.status}`);
        reject(new Error(`local-discord: no matching request within ${ms} ms; last requests: ${seen.join('; ') || 'none'}`));
      }, ms);
      const waiter = (request: RecordedRequest): void => {
        if (!match(request)) return;
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        resolve(request);
      };
      this.#waiters.add(waiter);
    });
  }
}
