import type { Network } from "../core/network.js";

/** Trained networks a job source keeps for predictions, beyond those it must keep (see {@link ModelCache}). */
export const MODEL_CACHE_SIZE = 4;

/**
 * Trained networks by job id, least recently used dropped first once more than `size` are kept.
 * Both job sources use it: the background trainer for models read back from its models folder (with
 * no folder it keeps every network, `size` Infinity: there is no other copy), the Redis job queue for
 * models read from jobs' results.
 */
export class ModelCache {
  private readonly networks = new Map<string, Network>();

  constructor(readonly size: number = MODEL_CACHE_SIZE) {}

  /** The network of job `id`: kept, or loaded with `load` and kept. */
  async get(id: string, load: () => Promise<Network>): Promise<Network> {
    const kept = this.networks.get(id);
    if (kept === undefined) {
      const loaded = await load();
      this.set(id, loaded);
      return loaded;
    }
    this.networks.delete(id); // most recently used last
    this.networks.set(id, kept);
    return kept;
  }

  /** Keeps `network` as the most recently used, dropping the least recently used beyond `size`. */
  set(id: string, network: Network): void {
    this.networks.delete(id);
    this.networks.set(id, network);
    for (const old of this.networks.keys()) {
      if (this.networks.size <= this.size) break;
      this.networks.delete(old);
    }
  }

  /** Ids kept, least recently used first. */
  ids(): string[] {
    return [...this.networks.keys()];
  }
}
