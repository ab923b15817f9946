// The dashboard of `shoal serve` (docs/server.md, "Dashboard"). Plain ES module, no build step.
// Every value that comes from the server is put on the page as text (textContent, new Option),
// never as HTML: a job's name is whatever its submitter typed. The page is served under a
// Content-Security-Policy that allows no inline script, so everything it does is in this file.
import uPlot from "./uPlot.esm.js";
import { mnistField } from "./centre-digit.js";

const $ = (id) => document.getElementById(id);
const statuses = ["queued", "running", "done", "failed", "cancelled"];
const finished = ["done", "failed", "cancelled"];

// ---- calls to the server: relative URLs (the page may be mounted under a prefix), with the token if the server wants one

const TOKEN_KEY = "shoal-token";
let asking; // one prompt at a time, however many calls are refused at once
let declined = false; // the user cancelled the prompt: do not ask again until the page is reloaded

/**
 * Asks for the server's token (kept for this tab in sessionStorage) after a call made with
 * `refused` (a token, or null) got 401; resolves to whether there is a new token to try.
 */
function askToken(refused) {
  if (asking === undefined) {
    asking = Promise.resolve().then(() => {
      if (sessionStorage.getItem(TOKEN_KEY) !== refused) return true; // another call got one meanwhile
      if (declined) return false;
      const question = refused === null ? "This shoal server needs its token (shoal serve --token):" : "The server refused that token. Its token:";
      const token = window.prompt(question)?.trim();
      if (!token) {
        declined = true;
        return false;
      }
      sessionStorage.setItem(TOKEN_KEY, token);
      return true;
    });
    void asking.finally(() => (asking = undefined));
  }
  return asking;
}

/** fetch with the token; a 401 asks for the token and tries again. */
async function api(path, init = {}) {
  for (let attempt = 0; ; attempt++) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const headers = { ...init.headers, ...(token === null ? {} : { authorization: `Bearer ${token}` }) };
    const response = await fetch(path, { ...init, headers });
    if (response.status !== 401 || attempt === 3 || !(await askToken(token))) return response;
  }
}

const postJson = (path, body) => api(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

async function errorMessage(response) {
  try {
    const body = await response.json();
    return { message: String(body.message ?? response.statusText), field: body.field };
  } catch {
    return { message: `${response.status} ${response.statusText}` };
  }
}

// ---- jobs

/** id → { job (the record, without reports), row: the table row and its cells } */
const jobs = new Map();
let selected;

function text(value, digits) {
  return typeof value === "number" && Number.isFinite(value) ? value.toFixed(digits) : "–";
}

function percent(value) {
  return typeof value === "number" ? `${(value * 100).toFixed(2)}%` : "–";
}

function makeRow(id) {
  const tr = document.createElement("tr");
  tr.dataset.id = id;
  const cell = (className) => {
    const td = document.createElement("td");
    if (className) td.className = className;
    tr.append(td);
    return td;
  };
  const cells = { name: cell("name"), status: cell("status"), progress: cell(), epoch: cell(), accuracy: cell(), cost: cell(), worker: cell("worker-col"), actions: cell() };
  const bar = document.createElement("progress");
  bar.max = 1;
  bar.value = 0;
  cells.progress.append(bar);
  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.textContent = "Cancel";
  cancel.className = "cancel";
  cancel.addEventListener("click", (event) => {
    event.stopPropagation();
    void cancelJob(id, cancel);
  });
  cells.actions.append(cancel);
  tr.addEventListener("click", () => select(id));
  $("jobs").tBodies[0].prepend(tr); // newest first
  return { tr, cells, bar, cancel };
}

function renderJob(entry) {
  const { job, row } = entry;
  const { cells } = row;
  cells.name.textContent = job.spec?.name ?? job.id;
  cells.name.title = `${job.id} · ${job.spec?.dataset ?? ""} · ${(job.spec?.layers ?? []).join("-")}`;
  cells.status.textContent = job.status;
  cells.status.className = `status${statuses.includes(job.status) ? ` status-${job.status}` : ""}`;
  const p = job.progress;
  row.bar.value = job.status === "done" ? 1 : p && p.examples > 0 && p.epoch > job.epoch ? p.examplesDone / p.examples : job.status === "running" && p ? 1 : 0;
  row.bar.title = p ? `epoch ${p.epoch}: ${p.examplesDone} of ${p.examples} examples` : "";
  cells.epoch.textContent = `${job.epoch}/${job.epochs}`;
  cells.accuracy.textContent = percent(job.accuracy);
  cells.cost.textContent = text(job.cost, 4);
  cells.worker.textContent = job.worker?.name ?? "";
  if (job.worker) $("jobs").classList.remove("no-worker");
  row.cancel.disabled = finished.includes(job.status);
  row.cancel.hidden = finished.includes(job.status);
  if (job.status === "failed" && job.error) cells.status.title = `${job.error.name}: ${job.error.message}`;
}

function upsert(job) {
  let entry = jobs.get(job.id);
  if (entry === undefined) {
    entry = { job, row: makeRow(job.id) };
    jobs.set(job.id, entry);
  } else if (job.seq !== undefined && entry.job.seq !== undefined && job.seq < entry.job.seq) {
    return entry; // older than what we have
  } else {
    entry.job = { ...entry.job, ...job };
  }
  renderJob(entry);
  $("no-jobs").hidden = jobs.size > 0;
  if (selected === job.id) renderCurveTitle();
  return entry;
}

async function cancelJob(id, button) {
  button.disabled = true;
  const response = await api(`jobs/${encodeURIComponent(id)}`, { method: "DELETE" });
  if (!response.ok) {
    $("jobs-error").textContent = (await errorMessage(response)).message;
    button.disabled = false;
    return;
  }
  $("jobs-error").textContent = "";
  upsert(await response.json());
}

// ---- the event stream: one connection for every job's events (GET /events)

// fetch rather than EventSource: EventSource cannot send an Authorization header, and a token in
// the URL would end up in server logs and the browser's history.
async function followEvents() {
  for (;;) {
    try {
      const response = await api("events");
      if (response.status === 401 && declined) {
        setConnection("this server needs its token: reload the page to enter it", "");
        return;
      }
      if (!response.ok) throw new Error((await errorMessage(response)).message);
      setConnection("live", "");
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          handleBlock(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
      setConnection("disconnected: reconnecting…", "");
    } catch (error) {
      setConnection("disconnected: reconnecting…", error instanceof Error ? error.message : String(error));
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

function setConnection(state, detail) {
  $("connection").textContent = state;
  $("connection").title = detail;
}

function handleBlock(block) {
  let type = "message";
  let data = "";
  for (const line of block.split("\n")) {
    if (line.startsWith("event: ")) type = line.slice(7);
    else if (line.startsWith("data: ")) data += line.slice(6);
  }
  if (data === "") return; // a keep-alive comment
  const value = JSON.parse(data);
  if (type === "jobs") {
    for (const job of value.jobs) upsert(job);
    if (selected === undefined) {
      const running = value.jobs.find((j) => j.status === "running");
      if (running) select(running.id);
    }
  } else if (type === "progress") {
    const entry = jobs.get(value.id);
    if (entry) {
      entry.job.progress = { epoch: value.epoch, examplesDone: value.examplesDone, examples: value.examples };
      renderJob(entry);
    }
  } else if (type === "epoch") {
    const entry = jobs.get(value.id);
    if (entry) {
      Object.assign(entry.job, { epoch: Math.max(entry.job.epoch, value.epoch), epochs: value.epochs, cost: value.cost, ...(value.accuracy === undefined ? {} : { accuracy: value.accuracy }) });
      renderJob(entry);
    }
    if (value.id === selected) addReports([value]);
  } else if (statuses.includes(type)) {
    upsert(value);
    if (type === "done") void loadModels();
  }
}

// ---- the selected job's learning curve

/** epoch → report, of the selected job: its record's reports and its epoch events, which may arrive in either order. */
let reports = new Map();
/** Whether the selected job's record has come: until then the curve would miss its earlier epochs. */
let recordLoaded = false;
let chart;

function select(id) {
  selected = id;
  reports = new Map();
  recordLoaded = false;
  for (const [key, entry] of jobs) entry.row.tr.classList.toggle("selected", key === id);
  renderCurveTitle();
  drawCurve();
  void api(`jobs/${encodeURIComponent(id)}`).then(async (response) => {
    const record = response.ok ? await response.json() : { reports: [] };
    if (selected !== id) return;
    // the record may be ahead of the stream (it came by another connection): the row keeps up with the curve
    const entry = jobs.get(id);
    if (entry && record.epoch > entry.job.epoch) {
      entry.job.epoch = record.epoch;
      renderJob(entry);
    }
    recordLoaded = true;
    addReports(record.reports ?? []);
  });
}

function renderCurveTitle() {
  const job = jobs.get(selected)?.job;
  $("curve-title").textContent = job ? `· ${job.spec?.name ?? job.id}` : "";
}

function addReports(list) {
  for (const report of list) reports.set(report.epoch, report);
  if (recordLoaded) drawCurve();
}

function drawCurve() {
  const sorted = recordLoaded ? [...reports.values()].sort((a, b) => a.epoch - b.epoch) : [];
  const data = [sorted.map((r) => r.epoch), sorted.map((r) => (r.accuracy === undefined ? null : r.accuracy * 100)), sorted.map((r) => r.cost)];
  $("no-curve").hidden = selected !== undefined;
  const body = $("curve-table").tBodies[0];
  body.replaceChildren(
    ...sorted.map((r) => {
      const tr = document.createElement("tr");
      for (const value of [String(r.epoch), percent(r.accuracy), text(r.cost, 4)]) {
        const td = document.createElement("td");
        td.textContent = value;
        tr.append(td);
      }
      return tr;
    }),
  );
  $("curve-table").classList.toggle("has-rows", sorted.length > 0);
  $("chart").dataset.points = String(sorted.length);
  if (selected === undefined) return;
  if (chart === undefined) {
    chart = new uPlot(
      {
        width: Math.max(300, $("chart").clientWidth),
        height: 260,
        legend: { live: false },
        scales: { x: { time: false }, "%": { auto: true }, cost: { auto: true } },
        series: [
          { label: "epoch" },
          { label: "test accuracy %", scale: "%", stroke: "#1565c0", width: 2, points: { show: true, size: 6 }, value: (_u, v) => (v == null ? "–" : `${v.toFixed(2)}%`) },
          { label: "training cost", scale: "cost", stroke: "#e65100", width: 2, points: { show: true, size: 6 }, value: (_u, v) => (v == null ? "–" : v.toFixed(4)) },
        ],
        axes: [
          { label: "epoch", incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] },
          { scale: "%", label: "test accuracy %" },
          { scale: "cost", label: "training cost", side: 1, grid: { show: false } },
        ],
      },
      data,
      $("chart"),
    );
    new ResizeObserver(() => chart.setSize({ width: Math.max(300, $("chart").clientWidth), height: 260 })).observe($("chart"));
  } else {
    chart.setData(data);
  }
}

// ---- submitting a job

const form = $("submit-form");

/** A number when the text is one; otherwise the text as typed, so the server's own check names it. */
function number(value) {
  const trimmed = value.trim();
  const n = Number(trimmed);
  return trimmed !== "" && Number.isFinite(n) ? n : trimmed;
}

function specOfForm() {
  const field = (name) => form.elements.namedItem(name).value.trim();
  const source = field("data");
  // idx and csv data are files under the server's --data-dir (without it the server says so)
  const spec = { data: source === "idx" || source === "csv" ? { [source]: field("data.path") } : { name: source } };
  if (field("data.limit") !== "") spec.data.limit = number(field("data.limit"));
  spec.layers = field("layers") === "" ? [] : field("layers").split(/[\s,]+/).filter(Boolean).map(number);
  for (const name of ["epochs", "miniBatchSize", "eta", "seed"]) if (field(name) !== "") spec[name] = number(field(name));
  if (field("threads") !== "") spec.threads = field("threads") === "auto" ? "auto" : number(field("threads"));
  if (field("name") !== "") spec.name = field("name");
  return spec;
}

function clearFieldErrors() {
  for (const output of form.querySelectorAll(".field-error")) output.textContent = "";
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

/**
 * The form field a server message is about: the error's `field` (schema errors), else the field
 * the message starts with (`layers[0] is 700, but …`, `threads must be at most 2 …`); "" when it
 * names none of the form's fields.
 */
function fieldOf(error) {
  const named = error.field ?? /^(?:body\.)?([A-Za-z]+(?:\.[A-Za-z]+)?)/.exec(error.message)?.[1] ?? "";
  const path = named.replace(/\[\d+\].*$/, "").replace(/^data\.(idx|csv|test)$/, "data.path");
  if (form.querySelector(`.field-error[data-for="${CSS.escape(path)}"]`)) return path;
  const top = path.split(".")[0];
  return form.querySelector(`.field-error[data-for="${CSS.escape(top)}"]`) ? top : "";
}

form.elements.namedItem("data").addEventListener("change", (event) => {
  form.querySelector(".data-path").hidden = !["idx", "csv"].includes(event.target.value);
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearFieldErrors();
  const response = await postJson("jobs", specOfForm());
  if (response.status === 201) {
    const job = await response.json();
    upsert(job);
    select(job.id);
    return;
  }
  const error = await errorMessage(response);
  const field = fieldOf(error);
  form.querySelector(`.field-error[data-for="${CSS.escape(field)}"]`).textContent = error.message;
  form.elements.namedItem(field)?.setAttribute?.("aria-invalid", "true");
});

// ---- models

async function loadModels() {
  const response = await api("models");
  if (!response.ok) return;
  const { models } = await response.json();
  const body = $("models").tBodies[0];
  const choice = $("pad-model");
  const chosen = choice.value;
  body.replaceChildren();
  choice.replaceChildren();
  for (const model of models.slice().reverse()) {
    const tr = document.createElement("tr");
    tr.dataset.id = model.id;
    for (const value of [model.name ?? model.id, (model.layers ?? []).join("-"), model.dataset ?? "", percent(model.accuracy)]) {
      const td = document.createElement("td");
      td.textContent = String(value);
      tr.append(td);
    }
    tr.title = model.id;
    tr.addEventListener("click", () => {
      choice.value = model.id;
      void predict();
    });
    body.append(tr);
    const option = new Option(`${model.name ?? model.id} (${(model.layers ?? []).join("-")})`, model.id);
    option.dataset.inputs = String(model.layers?.[0] ?? "");
    choice.append(option);
  }
  if (models.some((m) => m.id === chosen)) choice.value = chosen;
  $("no-models").hidden = models.length > 0;
}

// ---- the drawing pad

const pad = $("pad");
const ink = pad.getContext("2d", { willReadFrequently: true });
let drawn = false;

function clearPad() {
  ink.fillStyle = "#000";
  ink.fillRect(0, 0, pad.width, pad.height);
  $("pad-input").getContext("2d").clearRect(0, 0, 28, 28);
  drawn = false;
  $("predicted").textContent = "–";
  $("activations").replaceChildren();
  $("pad-error").textContent = "";
}

function point(event) {
  const box = pad.getBoundingClientRect();
  return [((event.clientX - box.left) * pad.width) / box.width, ((event.clientY - box.top) * pad.height) / box.height];
}

pad.addEventListener("pointerdown", (event) => {
  pad.setPointerCapture(event.pointerId);
  ink.strokeStyle = "#fff";
  ink.lineWidth = 22;
  ink.lineCap = "round";
  ink.lineJoin = "round";
  ink.beginPath();
  ink.moveTo(...point(event));
  ink.lineTo(...point(event));
  ink.stroke();
  drawn = true;
});
pad.addEventListener("pointermove", (event) => {
  if (!pad.hasPointerCapture(event.pointerId)) return;
  ink.lineTo(...point(event));
  ink.stroke();
});
pad.addEventListener("pointerup", () => void predict());
$("pad-clear").addEventListener("click", clearPad);
$("pad-model").addEventListener("change", () => void predict());

/** The pad as a grayscale image (brightness in [0, 1]), laid out as `shoal predict` lays out a PNG. */
function padInput() {
  const { data } = ink.getImageData(0, 0, pad.width, pad.height);
  const pixels = new Float64Array(pad.width * pad.height);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (0.299 * data[4 * i] + 0.587 * data[4 * i + 1] + 0.114 * data[4 * i + 2]) / 255;
  const field = mnistField({ width: pad.width, height: pad.height, pixels }, "digit");
  const preview = $("pad-input").getContext("2d");
  const image = preview.createImageData(28, 28);
  field.forEach((v, i) => {
    const g = Math.round(Math.min(1, Math.max(0, v)) * 255);
    image.data.set([g, g, g, 255], 4 * i);
  });
  preview.putImageData(image, 0, 0);
  return Array.from(field);
}

async function predict() {
  $("pad-error").textContent = "";
  const option = $("pad-model").selectedOptions[0];
  if (!drawn) return;
  if (option === undefined) {
    $("pad-error").textContent = "No model yet: train one first.";
    return;
  }
  if (option.dataset.inputs !== "784") {
    $("pad-error").textContent = `This model takes ${option.dataset.inputs} inputs; the pad gives 784 (28 × 28).`;
    return;
  }
  const inputs = padInput();
  const response = await postJson(`models/${encodeURIComponent(option.value)}/predict`, { inputs: [inputs] });
  if (!response.ok) {
    $("pad-error").textContent = (await errorMessage(response)).message;
    return;
  }
  const { classes, outputs } = await response.json();
  $("predicted").textContent = String(classes[0]);
  $("activations").replaceChildren(
    ...outputs[0].map((value, k) => {
      const li = document.createElement("li");
      if (k === classes[0]) li.className = "best";
      const label = document.createElement("span");
      label.textContent = String(k);
      const meter = document.createElement("meter");
      meter.min = 0;
      meter.max = 1;
      meter.value = value;
      const figure = document.createElement("span");
      figure.textContent = value.toFixed(3);
      li.append(label, meter, figure);
      return li;
    }),
  );
}

clearPad();
drawCurve();
void loadModels();
void followEvents();
