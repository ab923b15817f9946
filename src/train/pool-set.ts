import { check } from "../core/errors.js";
import { TrainingPool, type WorkerVariant } from "../parallel/pool.js";

/**
 * Warm pools by thread count: train()'s default pool, and a background trainer's own. A run
 * borrows an idle pool of its size — a new one if every such pool is busy, so concurrent runs
 * never wait for each other's threads — and gives it back, warm, for the next run.
 */
export class PoolSet {
  readonly #idle = new Map<number, TrainingPool[]>();
  readonly #all = new Set<TrainingPool>();
  #closed = false;

  /** @param variant @internal What the pools' threads run (tests give a fixture worker). */
  constructor(private readonly variant: WorkerVariant = {}) {}

  /** Runs `use` on an idle pool of `threads` threads, then keeps the pool for the next run. */
  async with<T>(threads: number, use: (pool: TrainingPool) => Promise<T>): Promise<T> {
    check(!this.#closed, "this pool set is closed");
    const pool = this.#idle.get(threads)?.pop() ?? this.#create(threads);
    try {
      return await use(pool);
    } finally {
      if (!this.#closed) this.#idle.set(threads, [...(this.#idle.get(threads) ?? []), pool]);
    }
  }

  /** Starts a pool of `threads` threads now, unless an idle one is there, for a run to find warm. */
  start(threads: number): void {
    check(!this.#closed, "this pool set is closed");
    if ((this.#idle.get(threads)?.length ?? 0) > 0) return;
    this.#idle.set(threads, [this.#create(threads)]);
  }

  #create(threads: number): TrainingPool {
    const pool = new TrainingPool(threads, this.variant);
    this.#all.add(pool);
    return pool;
  }

  /** Ends every pool's threads (runs in progress finish first: see TrainingPool.close). */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#all].map((pool) => pool.close()));
  }
}
