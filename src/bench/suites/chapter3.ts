/**
 * Chapter 3's training rules on real data (issue 18): not a speed benchmark but the accuracy each
 * rule reaches, the epochs it ran and its wall-clock time, as the README's "Chapter 3" section
 * quotes them. For each dataset (the bundled digits, 8,000 / 2,000, and Fashion-MNIST, 60,000 /
 * 10,000) a 784-100-10 network of sigmoids with the cross-entropy cost, η 0.5, batch 10, seed 1, is
 * trained plain, with L2 (λ 5), with momentum (μ 0.5), with both, with dropout (p 0.5), and with early stopping on a
 * validation set held out of the training set. Then chapter 3's overfitting run: 784-30-10 from
 * N(0, 1) weights on the first 1,000 digits for many epochs, without and with λ 0.1, training and
 * test accuracy per epoch, drawn as the plot beside the results file.
 */
import { Network } from "../../core/network.js";
import type { Dataset } from "../../core/dataset.js";
import { sliceDataset } from "../../core/dataset.js";
import { loadFashionMnist } from "../../data/fashion-mnist.js";
import { train } from "../../train/train.js";
import type { EpochReport, TrainOptions } from "../../train/options.js";
import { machine, table } from "../stats.js";
import { arg, defineSuite } from "../suite.js";
import { digits } from "../training.js";
import { renderSvg } from "../results.js";

const datasets = ["digits", "fashion-mnist"] as const;
type DatasetName = (typeof datasets)[number];

/** One row: the rule, the library options it adds, and the `shoal train` flags that give the same run. */
interface Rule {
  readonly name: string;
  readonly options: Partial<TrainOptions>;
  readonly flags: string;
  /** Early stopping: a validation set is held out of the training set, and the run may take twice the epochs. */
  readonly validation?: boolean;
}

const rules: readonly Rule[] = [
  { name: "plain SGD", options: {}, flags: "" },
  { name: "L2, λ 5", options: { lambda: 5 }, flags: " --lambda 5" },
  { name: "momentum, μ 0.5", options: { momentum: 0.5 }, flags: " --momentum 0.5" },
  { name: "L2 λ 5 + momentum μ 0.5", options: { lambda: 5, momentum: 0.5 }, flags: " --lambda 5 --momentum 0.5" },
  { name: "dropout, p 0.5", options: { dropout: 0.5 }, flags: " --dropout 0.5" },
  {
    name: "L2 λ 5, early stopping (patience 10, best kept)",
    options: { lambda: 5 }, flags: " --lambda 5 --early-stopping 10 --keep-best", validation: true,
  },
];

export const chapter3 = defineSuite({
  name: "chapter3",
  script: "bench:chapter3",
  section: "chapter3",
  summary: "chapter 3's rules (L2, momentum, dropout, early stopping) on the digits and Fashion-MNIST: accuracy, epochs, time; and the overfitting L2 prevents",
  options: {
    data: { type: "string", default: "digits,fashion-mnist", quick: "digits", help: `datasets: ${datasets.join(", ")}` },
    epochs: { type: "string", default: "30", quick: "2", help: "epochs of each run (early stopping may take twice as many)" },
    "overfit-epochs": { type: "string", default: "400", quick: "3", help: "epochs of the overfitting runs (1,000 digits)" },
    threads: { type: "string", default: "auto", help: "worker threads (auto, or a count)" },
  },
  async run(values, { quick, command, log }) {
    const names = arg.choices("data", values.data, datasets);
    const epochs = arg.integer("epochs", values.epochs);
    const overfitEpochs = arg.integer("overfit-epochs", values["overfit-epochs"]);
    const threads = values.threads === "auto" ? "auto" : arg.integer("threads", values.threads);
    const rows: string[][] = [];
    const commands: string[] = [];
    for (const name of names) {
      const { train: trainingSet, test } = await load(name, quick);
      for (const rule of rules) {
        // network2.py's split: the last sixth of the training set (10,000 of Fashion-MNIST's 60,000) for validation
        const held = rule.validation ? Math.round(trainingSet.count / 6) : 0;
        const data = sliceDataset(trainingSet, 0, trainingSet.count - held);
        const validationData = held > 0 ? sliceDataset(trainingSet, trainingSet.count - held) : undefined;
        const network = Network.create([784, 100, 10], { seed: 1, cost: "cross-entropy" });
        const options: TrainOptions = {
          epochs: rule.validation ? 2 * epochs : epochs, miniBatchSize: 10, eta: 0.5, seed: 1, threads, testData: test, ...rule.options,
          ...(validationData && { validationData, earlyStopping: { patience: 10, monitor: "validation", restoreBest: true } }),
        };
        const started = performance.now();
        const result = await train(network, data, options);
        const seconds = (performance.now() - started) / 1000;
        const reports = result.epochs;
        const best = reports.reduce((a, b) => ((b.accuracy ?? 0) > (a.accuracy ?? 0) ? b : a));
        const final = network.evaluate(test).accuracy;
        rows.push([
          name, rule.name, percent(final), `${percent(best.accuracy ?? 0)} (epoch ${best.epoch})`,
          `${reports.length}${result.stopped ? ` (stopped; best ${result.bestEpoch})` : ""}`, seconds.toFixed(1),
          `${result.threads} (${result.parallelism})`,
        ]);
        const validation = held > 0 ? ` --validation ${held} --validation-split last` : "";
        commands.push(`shoal train --data ${name === "digits" ? "mnist" : name} --hidden 100 --cost cross-entropy --eta 0.5 --epochs ${options.epochs} --seed 1${rule.flags}${validation}${threads === "auto" ? "" : ` --threads ${threads}`}`);
        log(`${name}, ${rule.name}: ${percent(final)} after ${reports.length} epochs, ${seconds.toFixed(1)} s`);
      }
    }
    // network2.py's overfitting example: 1,000 training digits, many epochs, λ 0 against λ 0.1
    const { train: allDigits, test: digitTest } = await digits(quick);
    const few = sliceDataset(allDigits, 0, 1000);
    const curves: { epoch: number; series: string; accuracy: number }[] = [];
    const overfitRows: string[][] = [];
    for (const lambda of [0, 0.1]) {
      // chapter 3's overfitting example starts from network2.py's large_weight_initializer: N(0, 1)
      const network = Network.create([784, 30, 10], { seed: 1, cost: "cross-entropy", init: "gaussian" });
      const started = performance.now();
      const result = await train(network, few, {
        epochs: overfitEpochs, miniBatchSize: 10, eta: 0.5, lambda, seed: 1, threads, testData: digitTest, monitor: ["training-accuracy"],
      });
      const seconds = (performance.now() - started) / 1000;
      for (const r of result.epochs) {
        curves.push({ epoch: r.epoch, series: `training, λ ${lambda}`, accuracy: 100 * (r.trainingAccuracy ?? 0) });
        curves.push({ epoch: r.epoch, series: `test, λ ${lambda}`, accuracy: 100 * (r.accuracy ?? 0) });
      }
      const last = result.epochs.at(-1)!;
      const best = result.epochs.reduce((a: EpochReport, b) => ((b.accuracy ?? 0) > (a.accuracy ?? 0) ? b : a));
      overfitRows.push([String(lambda), percent(last.trainingAccuracy ?? 0), percent(last.accuracy ?? 0), `${percent(best.accuracy ?? 0)} (epoch ${best.epoch})`, seconds.toFixed(1)]);
      commands.push(`shoal train --limit 1000 --hidden 30 --cost cross-entropy --weight-init gaussian --eta 0.5 --epochs ${overfitEpochs} --seed 1${lambda > 0 ? ` --lambda ${lambda}` : ""} --monitor training-accuracy --plot curve.svg`);
      log(`overfitting, λ ${lambda}: training ${percent(last.trainingAccuracy ?? 0)}, test ${percent(last.accuracy ?? 0)}, ${seconds.toFixed(1)} s`);
    }
    const markdown = [
      `### ${command}`,
      "",
      machine(),
      "",
      "784-100-10, sigmoid layers, cross-entropy cost, η 0.5, batch 10, seed 1; accuracy on the test set (digits: 2,000, Fashion-MNIST: 10,000). Seconds: wall-clock of `train()`, thread start and each epoch's test included.",
      "",
      table(["data", "rule", "final test accuracy", "best test accuracy", "epochs run", "seconds", "threads"], rows),
      "",
      `Overfitting (chapter 3's example): 784-30-10 from N(0, 1) weights (network2.py's large_weight_initializer) on the first 1,000 training digits, ${overfitEpochs} epochs, η 0.5, batch 10, cross-entropy; test: the 2,000 test digits. Plot: \`bench/chapter3.svg\`.`,
      "",
      table(["λ", "final training accuracy", "final test accuracy", "best test accuracy", "seconds"], overfitRows),
      "",
      "The same runs from the command line (the bundled digits are `--data mnist`):",
      "",
      "```",
      ...commands,
      "```",
    ].join("\n");
    const svg = await renderSvg(overfittingPlot(curves, few.count));
    return { markdown, svg };
  },
});

async function load(name: DatasetName, quick: boolean): Promise<{ train: Dataset; test: Dataset }> {
  if (name === "digits") return digits(quick);
  return loadFashionMnist(quick ? { limit: 2000, testLimit: 500 } : {});
}

const percent = (x: number): string => `${(100 * x).toFixed(2)}%`;

/** Training and test accuracy per epoch, solid for training and dashed for test, one colour per λ. */
function overfittingPlot(rows: readonly { epoch: number; series: string; accuracy: number }[], examples: number): Record<string, unknown> {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: `Training and test accuracy on ${examples.toLocaleString("en")} digits, 784-30-10 from N(0, 1) weights, without and with L2`,
    width: 560,
    height: 340,
    data: { values: rows },
    mark: { type: "line", strokeWidth: 1.5 },
    encoding: {
      x: { field: "epoch", type: "quantitative", title: "epoch" },
      y: { field: "accuracy", type: "quantitative", title: "accuracy (%)", scale: { zero: false } },
      color: { field: "series", type: "nominal", title: null, scale: { scheme: "category10" } },
      strokeDash: { condition: { test: "indexof(datum.series, 'test') === 0", value: [5, 3] }, value: [1, 0] },
    },
  };
}
