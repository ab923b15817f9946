import { describe, expect, it } from "vitest";
import { share, weightedShare } from "../src/core/share.js";

/** The parts of `count` workers, checked to tile [0, length) in order. */
function parts(count: number, part: (index: number) => { from: number; to: number }, length: number): { from: number; to: number }[] {
  const all = Array.from({ length: count }, (_, k) => part(k));
  expect(all[0]!.from).toBe(0);
  expect(all.at(-1)!.to).toBe(length);
  for (let k = 1; k < count; k++) expect(all[k]!.from).toBe(all[k - 1]!.to);
  return all;
}

describe("splitting work among threads", () => {
  it("share: contiguous parts whose sizes differ by at most one, empty parts when there are more workers than items", () => {
    expect(parts(3, (k) => share(10, k, 3), 10).map((p) => p.to - p.from)).toEqual([3, 3, 4]);
    expect(parts(4, (k) => share(2, k, 4), 2).map((p) => p.to - p.from)).toEqual([0, 1, 0, 1]);
  });

  it("weightedShare: cuts where the running work crosses k/count of the total", () => {
    // the work is all at the end (like the bias row and the middle pixels of a digit)
    const weights = [0, 0, 0, 1, 1, 1, 1, 0, 0, 4];
    const halves = parts(2, (k) => weightedShare(weights, k, 2), weights.length);
    const work = halves.map((p) => weights.slice(p.from, p.to).reduce((a, b) => a + b, 0));
    expect(work).toEqual([4, 4]);
    expect(parts(3, (k) => weightedShare([5, 5, 5], k, 3), 3)).toEqual([{ from: 0, to: 1 }, { from: 1, to: 2 }, { from: 2, to: 3 }]);
  });

  it("weightedShare: no work at all falls back to equal sizes; more workers than items leaves some empty", () => {
    expect(parts(2, (k) => weightedShare([0, 0, 0, 0], k, 2), 4)).toEqual([{ from: 0, to: 2 }, { from: 2, to: 4 }]);
    parts(5, (k) => weightedShare([1, 9], k, 5), 2);
  });
});
