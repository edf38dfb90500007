/** Items per commit; a larger backlog is written in several. */
const GROUP_COMMIT_MAX = 256;

interface Pending<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: items handed in while the event loop is busy (or in the same turn) are written
 * by one call of `commitBatch`, one transaction made durable by one fsync, and each caller is
 * answered only after that commit, with its own item's result. One fsync per item would cap
 * acknowledgements at the disk's fsync rate; per batch the cost is shared.
 */
export class GroupCommit<T, R> {
  readonly #queue: Array<Pending<T, R>> = [];
  #flushing = false;

  /** `commitBatch` returns one result per item, in order. */
  constructor(private readonly commitBatch: (items: T[]) => Promise<R[]>) {}

  submit(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (!this.#flushing) {
        this.#flushing = true;
        // After the I/O callbacks of this turn, so the requests already read join the batch.
        setImmediate(() => void this.#flush());
      }
    });
  }

  async #flush(): Promise<void> {
    const batch = this.#queue.splice(0, GROUP_COMMIT_MAX);
    try {
      const results = await this.commitBatch(batch.map((p) => p.item));
      batch.forEach((pending, i) => {
        const result = results[i];
        if (result === undefined) pending.reject(new Error('group commit returned no result for an item'));
        else pending.resolve(result);
      });
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    } finally {
      if (this.#queue.length > 0) setImmediate(() => void this.#flush());
      else this.#flushing = false;
    }
  }
}
