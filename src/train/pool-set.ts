import { check } from "../core/errors.js";
import { TrainingPool } from "../parallel/pool.js";

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

  /** Ends every pool's threads (runs in progress finish first: see TrainingPool.close). */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#all].map((pool) => pool.close()));
  }
}
