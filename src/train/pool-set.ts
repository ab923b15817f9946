import type { Dataset } from "../core/dataset.js";
import { check } from "../core/errors.js";
import type { Network } from "../core/network.js";
import { MAX_THREADS, TrainingPool } from "../parallel/pool.js";
import { threadChoice, type TrainOptions, type TrainResult } from "./options.js";
import { train } from "./train.js";

/**
 * Warm pools by thread count, for a process that trains job after job (the background trainer):
 * a run borrows an idle pool of its size — a new one if every such pool is busy, so concurrent jobs
 * never wait for each other's threads — and gives it back for the next job.
 */
export class PoolSet {
  readonly #idle = new Map<number, TrainingPool[]>();
  readonly #all = new Set<TrainingPool>();
  #closed = false;

  /** Runs `use` on an idle pool of `threads` threads, then keeps the pool for the next run. */
  async with<T>(threads: number, use: (pool: TrainingPool) => Promise<T>): Promise<T> {
    check(!this.#closed, "this pool set is closed");
    let pool = this.#idle.get(threads)?.pop();
    if (pool === undefined) {
      pool = new TrainingPool(threads);
      this.#all.add(pool);
    }
    try {
      return await use(pool);
    } finally {
      if (!this.#closed) this.#idle.set(threads, [...(this.#idle.get(threads) ?? []), pool]);
    }
  }

  /**
   * train() on a warm pool of the thread count the options come to (`"auto"`: the count chosen for
   * this network, batch and data, as train() would; threads 0 runs in process, with no pool; a
   * thread count train() would refuse goes to train() to be refused). The result's threadsReason
   * is the choice's, not "the pool's".
   */
  async train(network: Network, data: Dataset, options: TrainOptions): Promise<TrainResult> {
    const choice = threadChoice(options, { sizes: network.sizes, dtype: network.spec.dtype, data });
    const threads = choice.threads;
    if (options.pool !== undefined || !(Number.isInteger(threads) && threads >= 1 && threads <= MAX_THREADS)) return train(network, data, options);
    const result = await this.with(threads, (pool) => train(network, data, { ...options, pool }));
    return { ...result, threadsReason: choice.reason };
  }

  /** Ends every pool's threads (runs in progress finish first: see TrainingPool.close). */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#all].map((pool) => pool.close()));
  }
}
