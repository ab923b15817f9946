/**
 * The dashboard of `shoal serve` in a real browser: Debian's headless Chromium (/usr/bin/chromium,
 * installed by the test set-up, test/system-deps.ts) driven by playwright-core. One page, one
 * server, the way a person uses it: submit a job through the form, watch it train, draw a digit,
 * cancel a job. Screenshots go to SHOAL_SCREENSHOTS (a folder; docs/images was made with
 * `SHOAL_SCREENSHOTS=docs/images npx vitest run … test/dashboard-browser.test.ts`), else a temporary one.
 */
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type Browser, type ConsoleMessage, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../src/cli/serve-command.js";
import { mnistField } from "../src/data/centre-digit.js";
import { startRedisServer, type RedisJobServer } from "../src/distributed/server.js";
import type { JobServer } from "../src/service/server.js";
import { shoal, startRedis, waitForOutput, type TestRedis } from "./fixtures/redis.js";

const xss = "<img src=x onerror=alert(1)>";

describe("the dashboard in headless Chromium", () => {
  let dir: string;
  let shots: string;
  let server: JobServer;
  let browser: Browser;
  let page: Page;
  // console errors (a CSP refusal is one), page errors, dialogs; but not the browser's note of the
  // 400 that the first test provokes on purpose
  const problems: string[] = [];
  const expected = /^console: (Failed to load resource: the server responded with a status of 400|Executing inline script violates)/;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "shoal-dashboard-"));
    shots = process.env.SHOAL_SCREENSHOTS ?? path.join(dir, "shots");
    await mkdir(shots, { recursive: true });
    server = await startServer({ port: 0, modelsDir: path.join(dir, "models") });
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium" });
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on("console", (m: ConsoleMessage) => m.type() === "error" && problems.push(`console: ${m.text()}`));
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("dialog", (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const row = (name: string) => page.locator("#jobs tbody tr", { has: page.locator("td.name", { hasText: name }) });

  it("opens, connects to GET /events and shows the server's own validation message beside the field it names", async () => {
    const response = await page.goto(`${server.url}/`);
    expect(response!.headers()["content-security-policy"]).toContain("script-src 'self'");
    await page.locator("#connection", { hasText: "live" }).waitFor();
    await expect.poll(() => page.locator("#no-jobs").isVisible()).toBe(true);
    // the policy holds in the browser: no eval, no inline script (tried from a timer: code the test
    // runs through the DevTools protocol itself is exempt)
    expect(await page.evaluate(`new Promise((done) => setTimeout(() => { try { done(eval("'ran'")); } catch (e) { done(e.name); } }))`)).toBe("EvalError");
    expect(await page.evaluate(`(() => { const s = document.createElement("script"); s.textContent = "window.inlineRan = true"; document.body.append(s); return window.inlineRan === true; })()`)).toBe(false);

    await page.fill('input[name="layers"]', "784,0,10");
    await page.click('#submit-form button[type="submit"]');
    const layersError = page.locator('.field-error[data-for="layers"]');
    await layersError.filter({ hasText: "must be" }).waitFor();
    expect(await layersError.textContent()).toBe("body.layers[1] must be >= 1");
    expect(await page.getAttribute('input[name="layers"]', "aria-invalid")).toBe("true");
    expect(await page.locator('.field-error[data-for="epochs"]').textContent()).toBe("");

    // a file: this server was started without --data-dir, and says so beside the path
    await page.fill('input[name="layers"]', "784,30,10");
    await page.selectOption('select[name="data"]', "idx");
    await page.fill('input[name="data.path"]', "mnist-files");
    await page.click('#submit-form button[type="submit"]');
    const pathError = page.locator('.field-error[data-for="data.path"]');
    await pathError.filter({ hasText: "data-dir" }).waitFor();
    expect(await pathError.textContent()).toBe("data.idx: this server reads no files (start it with --data-dir to allow idx and csv data under a folder)");
    expect(await layersError.textContent()).toBe("");
    await page.selectOption('select[name="data"]', "mnist");
    expect(await page.locator('input[name="data.path"]').isVisible()).toBe(false);
  });

  it("submits a job through the form, whose row reaches done as its curve gains one point per epoch; its name stays text", async () => {
    // Every number of points the curve shows, in order (events that came in one read are drawn in
    // one task: each mutation's old value gives the values between), and whether it matched the
    // selected row's epoch each time the page settled. (Browser code as text: no DOM types here.)
    await page.evaluate(`{
      const chart = document.getElementById("chart");
      const seen = (window.seenPoints = []);
      const mismatched = (window.mismatched = []);
      const add = (value) => seen.at(-1) !== value && seen.push(value);
      new MutationObserver((records) => {
        for (const record of records.slice(1)) add(record.oldValue ?? "");
        add(chart.dataset.points ?? "");
        const epoch = document.querySelector("#jobs tr.selected td:nth-child(4)")?.textContent ?? "";
        if (chart.dataset.points !== "0" && epoch !== chart.dataset.points + "/4") mismatched.push([chart.dataset.points, epoch]);
      }).observe(chart, { attributes: true, attributeFilter: ["data-points"], attributeOldValue: true });
    }`);
    await page.fill('input[name="data.limit"]', "4000");
    await page.fill('input[name="layers"]', "784,30,10");
    await page.fill('input[name="epochs"]', "4");
    await page.fill('input[name="seed"]', "1");
    await page.fill('input[name="threads"]', "1");
    await page.fill('input[name="name"]', xss);
    await page.click('#submit-form button[type="submit"]');
    expect(await page.locator('.field-error[data-for="layers"]').textContent()).toBe("");

    const job = row(xss);
    await job.locator("td.status", { hasText: "done" }).waitFor({ timeout: 30_000 });
    expect(await job.locator("td").nth(3).textContent()).toBe("4/4");
    expect(await job.locator("td").nth(4).textContent()).toMatch(/^\d+\.\d\d%$/);
    expect(await job.locator("progress").evaluate((p) => (p as unknown as { value: number }).value)).toBe(1);
    expect(await job.getAttribute("class")).toContain("selected");
    // The curve grew as the row's epochs did, one point per epoch: the first it showed are the epochs
    // done when the page had the job's record (the job may start before the page has selected it).
    const seen = (await page.evaluate<string[]>("window.seenPoints")).filter((points) => points !== "0");
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen).toEqual(["1", "2", "3", "4"].slice(4 - seen.length));
    expect(await page.evaluate("window.mismatched")).toEqual([]);
    expect(await page.locator("#curve-table tbody tr").count()).toBe(4);
    expect(await page.locator("#chart canvas").count()).toBeGreaterThan(0);

    // the name is shown as the characters typed, and no element was made of it
    expect(await job.locator("td.name").textContent()).toBe(xss);
    expect(await page.locator("main img").count()).toBe(0);
    expect(await page.locator("#curve-title").textContent()).toBe(`· ${xss}`);
    await page.locator("#models tbody tr", { hasText: xss }).waitFor();
    expect(await page.locator("#pad-model option").first().textContent()).toBe(`${xss} (784-30-10)`);
  });

  it("predicts the digit drawn on the pad, laid out as shoal predict lays out a PNG", async () => {
    const box = (await page.locator("#pad").boundingBox())!;
    // a "7": a bar across the top, then a stroke down to the bottom left
    const at = (x: number, y: number) => [box.x + x * box.width, box.y + y * box.height] as const;
    await page.mouse.move(...at(0.3, 0.25));
    await page.mouse.down();
    for (const [x, y] of [[0.45, 0.25], [0.7, 0.25], [0.6, 0.5], [0.5, 0.75]] as const) await page.mouse.move(...at(x, y), { steps: 6 });
    const posted = page.waitForRequest((r) => r.url().endsWith("/predict"));
    await page.mouse.up();
    const inputs = ((await posted).postDataJSON() as { inputs: number[][] }).inputs;
    await page.locator("#activations li").nth(9).waitFor();

    expect(inputs).toHaveLength(1);
    expect(inputs[0]).toHaveLength(784);
    // the same centring as the command line's, run here on the pad's pixels
    const pad = await page.evaluate<{ width: number; height: number; rgba: number[] }>(`(() => {
      const canvas = document.getElementById("pad");
      const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
      return { width: canvas.width, height: canvas.height, rgba: Array.from(data) };
    })()`);
    const pixels = new Float64Array(pad.width * pad.height).map((_, i) => (0.299 * pad.rgba[4 * i]! + 0.587 * pad.rgba[4 * i + 1]! + 0.114 * pad.rgba[4 * i + 2]!) / 255);
    const expected = Array.from(mnistField({ width: pad.width, height: pad.height, pixels }, "digit"));
    inputs[0]!.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 12));

    const predicted = await page.locator("#predicted").textContent();
    expect(predicted).toMatch(/^\d$/);
    expect(await page.locator("#activations li").count()).toBe(10);
    expect(await page.locator("#activations li.best span").first().textContent()).toBe(predicted);
    expect(await page.locator("#pad-error").textContent()).toBe("");
  });

  it("shows a job training (screenshot), then cancels it with its button", async () => {
    await page.fill('input[name="data.limit"]', "");
    await page.fill('input[name="layers"]', "784,600,10"); // epochs longer than the 100 ms between progress events, so the bar moves within one
    await page.fill('input[name="epochs"]', "300");
    await page.fill('input[name="name"]', "long run");
    await page.click('#submit-form button[type="submit"]');
    const job = row("long run");
    await job.locator("td.status", { hasText: "running" }).waitFor();
    await expect.poll(() => page.evaluate<number>('Number(document.getElementById("chart").dataset.points)'), { timeout: 30_000 }).toBeGreaterThanOrEqual(6);
    // the progress bar moves within the epoch
    await expect.poll(() => job.locator("progress").evaluate((p) => (p as unknown as { value: number }).value), { timeout: 10_000 }).toBeGreaterThan(0);
    const file = path.join(shots, "dashboard.png");
    await page.screenshot({ path: file, fullPage: true });
    expect((await readFile(file)).subarray(1, 4).toString()).toBe("PNG");

    await job.locator("button.cancel").click();
    await job.locator("td.status", { hasText: "cancelled" }).waitFor({ timeout: 10_000 });
    expect(await job.locator("button.cancel").isHidden()).toBe(true);
    expect(server.trainer.job((await job.getAttribute("data-id"))!)?.status).toBe("cancelled");
    expect(problems.filter((p) => !expected.test(p))).toEqual([]);
  });
});

describe("the dashboard of a server started with a token", () => {
  let server: JobServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startServer({ port: 0, token: "s3cret-token" });
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium" });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("asks for the token once, then uses it for every call, the event stream included", async () => {
    const page = await browser.newPage();
    const prompts: string[] = [];
    page.on("dialog", (d) => {
      prompts.push(d.type());
      void d.accept("s3cret-token");
    });
    await page.goto(`${server.url}/`);
    await page.locator("#connection", { hasText: "live" }).waitFor();
    await page.locator("#no-models").waitFor();
    await page.reload(); // the tab keeps the token (sessionStorage)
    await page.locator("#connection", { hasText: "live" }).waitFor();
    expect(prompts).toEqual(["prompt"]);
  });

  it("asks once more after a wrong token, and stops asking when the prompt is cancelled", async () => {
    const page = await browser.newPage();
    const answers = ["wrong-token", null];
    const prompts: string[] = [];
    page.on("dialog", (d) => {
      prompts.push(d.message());
      const answer = answers.shift();
      void (answer ? d.accept(answer) : d.dismiss());
    });
    await page.goto(`${server.url}/`);
    await page.locator("#connection", { hasText: "reload the page to enter it" }).waitFor();
    expect(prompts).toEqual(["This shoal server needs its token (shoal serve --token):", "The server refused that token. Its token:"]);
  });
});

describe("the dashboard of shoal serve --redis", () => {
  let redis: TestRedis;
  let worker: ChildProcess;
  let server: RedisJobServer;
  let browser: Browser;

  beforeAll(async () => {
    redis = await startRedis();
    worker = shoal(["worker", "--redis", redis.url, "--name", "pad-worker-1", "--threads", "1"]);
    [server, browser] = await Promise.all([
      startRedisServer({ redis: redis.url, queue: "shoal", port: 0 }),
      chromium.launch({ executablePath: "/usr/bin/chromium" }),
      waitForOutput(worker, /waiting for jobs/),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (worker && worker.exitCode === null) {
      worker.kill("SIGTERM");
      await once(worker, "exit");
    }
    await redis?.stop();
  });

  it("shows which worker took each job", async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/`);
    await page.locator("#connection", { hasText: "live" }).waitFor();
    expect(await page.locator("#jobs th.worker-col").isVisible()).toBe(false); // no worker yet: no column
    await page.fill('input[name="data.limit"]', "500");
    await page.fill('input[name="epochs"]', "2");
    await page.fill('input[name="name"]', "on a worker");
    await page.click('#submit-form button[type="submit"]');
    const job = page.locator("#jobs tbody tr", { has: page.locator("td.name", { hasText: "on a worker" }) });
    await job.locator("td.status", { hasText: "done" }).waitFor({ timeout: 30_000 });
    expect(await job.locator("td.worker-col").textContent()).toBe("pad-worker-1");
    expect(await page.locator("#jobs th.worker-col").isVisible()).toBe(true);
    expect(await page.locator("#curve-table tbody tr").count()).toBe(2);
  });
});
