/**
 * npm run bench:distributed — training jobs through BullMQ on a local redis-server:
 *  1. throughput: a batch of small jobs (784-10-10, 500 digits, 1 epoch, 1 thread each) with 1 and
 *     with 2 `shoal worker` processes, against the same jobs one after another in this process;
 *  2. overhead per job: the latency of one job submitted alone through Redis to an idle worker
 *     (submit → completed event), minus the time the worker's processor spent on it (load the data,
 *     train, make the model JSON), as its result reports; the in-process time is shown beside it.
 * Needs redis-server (apt-get install -y redis-server) and the `shoal worker` command.
 */
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createRedisJobQueue } from "../src/distributed/redis-job-queue.js";
import { trainSpec } from "../src/distributed/run-job.js";
import type { JobSpec } from "../src/service/spec.js";
import { shoal, startRedis, waitForOutput } from "../test/fixtures/redis.js";
import { machine, median, recordSection, spread, table } from "./lib.js";

const JOBS = 16;
const LATENCY_RUNS = 9;
const spec = (seed: number): JobSpec => ({ data: { name: "mnist", limit: 500, testLimit: 100 }, layers: [784, 10, 10], epochs: 1, miniBatchSize: 10, eta: 3, seed, threads: 1 });

let latency: string[][] = [];
const redis = await startRedis();
const children: ChildProcess[] = [];
const startWorkers = async (n: number, queue: string): Promise<ChildProcess[]> => {
  const started = Array.from({ length: n }, (_, i) => shoal(["worker", "--redis", redis.url, "--queue", queue, "--name", `w${i + 1}`, "--threads", "1"]));
  children.push(...started);
  await Promise.all(started.map((c) => waitForOutput(c, /waiting for jobs/)));
  return started;
};
const stop = async (list: ChildProcess[]): Promise<void> => {
  for (const c of list) c.kill("SIGTERM");
  await Promise.all(list.map((c) => (c.exitCode === null ? once(c, "exit") : undefined)));
};

try {
  // warm-up: the data loader and the thread pool's modules in this process
  await trainSpec(spec(0));

  const localStart = performance.now();
  for (let i = 1; i <= JOBS; i++) await trainSpec(spec(i));
  const localSeconds = (performance.now() - localStart) / 1000;

  const rows: string[][] = [["in this process, one after another", String(JOBS), localSeconds.toFixed(2), (JOBS / localSeconds * 60).toFixed(0)]];
  for (const n of [1, 2]) {
    const queue = `bench-${n}`;
    const workers = await startWorkers(n, queue);
    const trainer = await createRedisJobQueue({ redis: redis.url, queue });
    await trainer.wait((await trainer.submit(spec(0))).id); // each worker's first job loads the data: not measured
    if (n === 2) await Promise.all([1, 2].map(async (s) => trainer.wait((await trainer.submit(spec(s))).id)));
    const start = performance.now();
    const ids = [];
    for (let i = 1; i <= JOBS; i++) ids.push((await trainer.submit(spec(i))).id);
    const ends = await Promise.all(ids.map((id) => trainer.wait(id)));
    const seconds = (performance.now() - start) / 1000;
    if (ends.some((e) => e.status !== "done")) throw new Error("a job did not finish");
    rows.push([`${n} worker process${n > 1 ? "es" : ""} via Redis`, String(JOBS), seconds.toFixed(2), (JOBS / seconds * 60).toFixed(0)]);

    if (n === 1) {
      // latency of one job alone, through Redis to an idle worker, against in-process
      const remote: number[] = [];
      const inWorker: number[] = [];
      const local: number[] = [];
      for (let i = 0; i < LATENCY_RUNS; i++) {
        let t = performance.now();
        const end = await trainer.wait((await trainer.submit(spec(100 + i))).id);
        remote.push(performance.now() - t);
        inWorker.push((end.seconds ?? 0) * 1000);
        t = performance.now();
        await trainSpec(spec(100 + i));
        local.push(performance.now() - t);
      }
      const overhead = remote.map((r, i) => r - inWorker[i]!);
      latency = [
        ["in this process (`trainSpec`: load data, train, model JSON)", spread(local, 1)],
        ["the same inside the worker (its processor, as the job result reports)", spread(inWorker, 1)],
        ["through Redis to 1 idle worker (submit → `completed` queue event → record)", spread(remote, 1)],
        ["**overhead of Redis per job** (end to end − inside the worker, paired)", `**${spread(overhead, 1)}**`],
      ];
    }
    await trainer.close();
    await stop(workers);
  }

  const md = [
    "### Distributed training (BullMQ on Redis): `npm run bench:distributed`",
    "",
    machine(),
    "",
    `Small jobs: 784-10-10 on 500 digits (100 test), 1 epoch, 1 thread each, fixed seeds; ${JOBS} jobs per batch.`,
    "",
    table(["setup", "jobs", "wall time (s)", "jobs per minute"], rows),
    "",
    `One job alone, ms, median (min–max) of ${LATENCY_RUNS}:`,
    "",
    table(["path", "latency (ms)"], latency),
  ].join("\n");
  console.log(md);
  await recordSection("distributed", md);
} finally {
  await stop(children.filter((c) => c.exitCode === null && c.signalCode === null));
  await redis.stop();
}
