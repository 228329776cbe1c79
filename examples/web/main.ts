/**
 * The page: controls, and drawing what the training worker reports. Nothing heavy runs here:
 * the worker trains, the page keeps histories and redraws at most once per animation frame.
 *
 * Form fields can be preset by query parameters of the same name, e.g.
 *   ?method=tdlrt&tau=0.1&lr=0.02&batch=32&warmup=10&evalEvery=10&maxSteps=60&autostart=1
 */
import { lineChart, PALETTE, type Series } from './charts.js';
import type { FromWorker, PageConfig, RunState, ToWorker } from './protocol.js';
import type { EvalReport, LayerView, StepReport } from './trainer.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page: #${id} is missing`);
  return el as T;
};

const worker = new Worker('worker.js');
const send = (msg: ToWorker) => worker.postMessage(msg);

// --- main-thread responsiveness: the longest task the browser reports while training runs -------
/** Every long task (> 50 ms) the browser reported: [start ms, duration ms] (wall clock). */
const longTasks: [number, number][] = [];
/** Long tasks count from the first press of start (page load and set-up are not training). */
let trainingSince = Infinity;
function showLongestTask(): void {
  const longest = longTasks.filter(([t]) => t >= trainingSince).reduce((m, [, d]) => Math.max(m, d), 0);
  const el = $('longest-task');
  el.textContent = longest.toFixed(0);
  el.dataset.ms = String(longest);
}
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) longTasks.push([Math.round(e.startTime), Math.round(e.duration)]);
    showLongestTask();
  }).observe({ type: 'longtask', buffered: true });
} catch {
  $('longest-task').textContent = 'n/a';
}

// --- state ----------------------------------------------------------------------------------------
interface History {
  loss: [number, number][];
  testLoss: [number, number][];
  accuracy: [number, number][];
  /** Per layer name: [step, rank out, rank in]. */
  ranks: Map<string, [number, number, number][]>;
  initialRanks: Map<string, string>;
  lastEval: EvalReport | null;
  lastStep: StepReport | null;
}
const fresh = (): History => ({ loss: [], testLoss: [], accuracy: [], ranks: new Map(), initialRanks: new Map(), lastEval: null, lastStep: null });
let hist = fresh();
let state: RunState = 'loading';
let config: PageConfig | null = null;
let grid: { images: Float32Array; labels: number[] } | null = null;
let dirty = false;

const params = new URLSearchParams(location.search);
const fields = ['tau', 'lr', 'batch', 'warmup', 'max-rank', 'eval-every', 'eval-size', 'max-steps', 'seed'] as const;
const queryName: Record<(typeof fields)[number], string> = {
  tau: 'tau',
  lr: 'lr',
  batch: 'batch',
  warmup: 'warmup',
  'max-rank': 'maxRank',
  'eval-every': 'evalEvery',
  'eval-size': 'evalSize',
  'max-steps': 'maxSteps',
  seed: 'seed',
};
for (const f of fields) {
  const v = params.get(queryName[f]);
  if (v !== null) $<HTMLInputElement>(f).value = v;
}

function readConfig(): PageConfig {
  const num = (id: (typeof fields)[number]) => {
    const el = $<HTMLInputElement>(id);
    const v = Number(el.value);
    if (el.value.trim() === '' || !Number.isFinite(v) || v < 0) throw new Error(`${el.name} must be a number ≥ 0, got '${el.value}'`);
    return v;
  };
  return {
    method: $<HTMLSelectElement>('method').value,
    backend: $<HTMLSelectElement>('backend-select').value,
    tau: num('tau'),
    lr: num('lr'),
    batchSize: Math.round(num('batch')),
    warmupSteps: Math.round(num('warmup')),
    maxRank: Math.round(num('max-rank')),
    evalEvery: Math.max(1, Math.round(num('eval-every'))),
    evalSize: Math.round(num('eval-size')),
    maxSteps: Math.round(num('max-steps')),
    seed: Math.round(num('seed')),
    momentum: 0.9,
    weightDecay: 5e-4,
  };
}

function setMessage(text: string): void {
  $('message').textContent = text;
}

function setState(s: RunState): void {
  state = s;
  const el = $('state');
  el.dataset.state = s;
  el.textContent = { loading: 'loading digits…', idle: 'ready', running: 'training', paused: 'paused', done: 'done', error: 'error' }[s];
  const configured = config !== null;
  $<HTMLButtonElement>('start').disabled = !configured || s === 'running' || s === 'done' || s === 'loading';
  $<HTMLButtonElement>('pause').disabled = s !== 'running';
  $<HTMLButtonElement>('reset').disabled = s === 'loading';
  $<HTMLButtonElement>('download').disabled = !configured || s === 'loading';
}

function reset(): void {
  let c: PageConfig;
  try {
    c = readConfig();
  } catch (err) {
    setMessage((err as Error).message);
    return;
  }
  setMessage('');
  hist = fresh();
  config = null;
  $('backend').textContent = '…';
  $('backend').dataset.backend = '';
  $('step').textContent = '0';
  $('step').dataset.step = '0';
  setState('loading');
  $('state').textContent = 'setting up…';
  send({ type: 'configure', config: c });
  dirty = true;
}

// --- controls --------------------------------------------------------------------------------------
$('start').addEventListener('click', () => {
  setMessage('');
  if (trainingSince === Infinity) {
    trainingSince = performance.now();
    showLongestTask();
  }
  send({ type: 'start' });
});
$('pause').addEventListener('click', () => send({ type: 'pause' }));
$('reset').addEventListener('click', reset);
$('download').addEventListener('click', () => send({ type: 'checkpoint' }));
$<HTMLSelectElement>('method').addEventListener('change', () => {
  $<HTMLInputElement>('tau').disabled = $<HTMLSelectElement>('method').value !== 'tdlrt';
});

// --- worker messages -------------------------------------------------------------------------------
worker.onmessage = (e: MessageEvent<FromWorker>) => {
  const msg = e.data;
  // Marks for the DevTools performance panel (and the e2e test): when each kind of report arrived.
  if (msg.type !== 'step') performance.mark(msg.type === 'state' ? `state:${msg.state}` : msg.type);
  switch (msg.type) {
    case 'ready': {
      const method = $<HTMLSelectElement>('method');
      method.innerHTML = msg.methods.map((m) => `<option value="${m}">${m}</option>`).join('');
      const wanted = params.get('method') ?? 'tdlrt';
      method.value = msg.methods.includes(wanted) ? wanted : msg.methods[0];
      $<HTMLInputElement>('tau').disabled = method.value !== 'tdlrt';
      const backend = $<HTMLSelectElement>('backend-select');
      backend.innerHTML = msg.backends.map((b) => `<option value="${b}">${b}</option>`).join('');
      const wantedBackend = params.get('backend');
      if (wantedBackend && msg.backends.includes(wantedBackend)) backend.value = wantedBackend;
      grid = { images: msg.gridImages, labels: msg.gridLabels };
      drawDigitCanvases();
      reset();
      return;
    }
    case 'configured': {
      config = msg.config;
      const b = $('backend');
      b.textContent = msg.backend;
      b.dataset.backend = msg.backend;
      $('epoch').textContent = `1 (${msg.stepsPerEpoch} steps each)`;
      setState('idle');
      if (params.get('autostart') === '1') send({ type: 'start' });
      return;
    }
    case 'step': {
      const r = msg.report;
      hist.lastStep = r;
      hist.loss.push([r.step, r.loss]);
      for (const [name, ranks] of Object.entries(r.ranks)) {
        let h = hist.ranks.get(name);
        if (!h) hist.ranks.set(name, (h = []));
        h.push([r.step, ranks[0], ranks[1]]);
      }
      dirty = true;
      return;
    }
    case 'eval': {
      const r = msg.report;
      hist.lastEval = r;
      hist.accuracy.push([r.step, 100 * r.accuracy]);
      hist.testLoss.push([r.step, r.loss]);
      for (const l of r.layers) {
        if (!hist.initialRanks.has(l.name)) hist.initialRanks.set(l.name, l.ranks.join('×'));
        let h = hist.ranks.get(l.name);
        if (!h) hist.ranks.set(l.name, (h = []));
        if (h.length === 0 || h[h.length - 1][0] < r.step) h.push([r.step, l.ranks[0], l.ranks[1]]);
      }
      dirty = true;
      return;
    }
    case 'state':
      // The status line shows every step received before the state change (a step that finished
      // while a pause was on its way is drawn now, not at the next frame after "paused").
      if (dirty) drawStatus();
      setState(msg.state);
      return;
    case 'checkpoint': {
      const url = URL.createObjectURL(new Blob([msg.bytes], { type: 'application/octet-stream' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = msg.fileName;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setMessage('');
      return;
    }
    case 'error':
      setMessage(msg.message);
      return;
  }
};
worker.onerror = (e) => {
  setMessage(`worker failed: ${e.message}`);
  setState('error');
};

// --- drawing ---------------------------------------------------------------------------------------
const pct = (x: number, digits = 1) => `${(100 * x).toFixed(digits)}%`;

function drawStatus(): void {
  const s = hist.lastStep;
  const stepEl = $('step');
  const step = s?.step ?? hist.lastEval?.step ?? 0;
  stepEl.textContent = String(step);
  stepEl.dataset.step = String(step);
  if (s) {
    $('epoch').textContent = String(s.epoch);
    $('step-time').textContent = s.ms.toFixed(0);
    $('tau-now').textContent = s.tau === null ? 'n/a' : String(s.tau);
  } else if (config) {
    $('tau-now').textContent = config.method === 'tdlrt' ? (config.warmupSteps > 0 ? '0 (warm-up)' : String(config.tau)) : 'n/a';
  }
}

function drawCurves(): void {
  $('loss-chart').innerHTML = lineChart(
    [
      { name: 'train (batch)', points: hist.loss, color: PALETTE[0] },
      { name: 'test', points: hist.testLoss, color: PALETTE[1], dots: true },
    ],
    { xLabel: 'step', yLabel: 'cross-entropy', yMin: 0, xMin: 0 },
  );
  $('acc-chart').innerHTML = lineChart([{ name: 'test accuracy', points: hist.accuracy, color: PALETTE[2], dots: true }], {
    xLabel: 'step',
    yLabel: 'test accuracy (%)',
    yMin: 0,
    yMax: 100,
    xMin: 0,
    hLines: [{ y: 10, label: 'chance' }],
    legend: false,
  });
  const ev = hist.lastEval;
  const acc = $('accuracy');
  if (ev) {
    acc.textContent = pct(ev.accuracy);
    acc.dataset.value = String(ev.accuracy);
    acc.dataset.step = String(ev.step);
    $('accuracy-note').textContent = `on ${ev.count} test digits at step ${ev.step}`;
  }
}

function isLowRank(l: LayerView): boolean {
  return l.kind !== 'Conv2d' && l.kind !== 'Linear';
}

function drawRanks(): void {
  const layers = hist.lastEval?.layers ?? [];
  let shown = layers.filter(isLowRank);
  if (shown.length === 0) shown = layers.filter((l) => l.name === 'conv2' || l.name === 'fc1');
  const series: Series[] = [];
  shown.forEach((l, i) => {
    const h = hist.ranks.get(l.name) ?? [];
    const color = PALETTE[i % PALETTE.length];
    if (l.fullShape.length === 2) {
      series.push({ name: `${l.name} (rank)`, points: h.map(([s, r]) => [s, r]), color, step: true });
    } else {
      series.push({ name: `${l.name} out`, points: h.map(([s, r]) => [s, r]), color, step: true });
      series.push({ name: `${l.name} in`, points: h.map(([s, , r]) => [s, r]), color, step: true, dashed: true });
    }
  });
  $('rank-chart').innerHTML = lineChart(series, { xLabel: 'step', yLabel: 'rank (log scale)', yLog: true, xMin: 0 });
}

function drawLayers(): void {
  const ev = hist.lastEval;
  if (!ev) return;
  $('layers').querySelector('tbody')!.innerHTML = ev.layers
    .map((l) => {
      const ranks = l.ranks.join('×');
      const changed = hist.initialRanks.get(l.name) !== ranks;
      const adapt = l.adaptModes.length ? ` title="adapted modes: ${l.adaptModes.join(', ')}; ranks at reset: ${hist.initialRanks.get(l.name)}"` : '';
      return (
        `<tr data-layer="${l.name}" class="${changed ? 'changed' : ''}"><td>${l.name}</td><td>${l.kind}</td><td class="shape">${l.fullShape.join('×')}</td>` +
        `<td class="ranks" data-ranks="${ranks}"${adapt}>${ranks}</td><td class="params">${l.params.toLocaleString('en-US')}</td>` +
        `<td class="compression" data-value="${l.compression}"><span class="bar" style="width:${Math.max(0, 50 * l.compression).toFixed(0)}px"></span>${pct(l.compression)}</td></tr>`
      );
    })
    .join('');
  const net = $('network');
  const c = 1 - ev.networkParams / ev.fullNetworkParams;
  net.dataset.compression = String(c);
  net.innerHTML = `whole network: <b>${ev.networkParams.toLocaleString('en-US')}</b> parameters, ${ev.fullNetworkParams.toLocaleString('en-US')} when full: <b>${pct(c)}</b> fewer`;
}

function drawSpectra(): void {
  const ev = hist.lastEval;
  if (!ev) return;
  const byLayer = new Map<string, typeof ev.spectra>();
  for (const s of ev.spectra) byLayer.set(s.layer, [...(byLayer.get(s.layer) ?? []), s]);
  const html: string[] = [];
  let i = 0;
  for (const l of ev.layers) {
    const sp = byLayer.get(l.name);
    const color = PALETTE[i++ % PALETTE.length];
    if (!sp) {
      html.push(
        `<figure><figcaption>${l.name}: ${l.fullShape.join('×')} (full, spectrum not computed: too large for a Jacobi SVD per evaluation)</figcaption></figure>`,
      );
      continue;
    }
    const series: Series[] = sp.map((s) => ({
      name: `mode ${s.mode === 0 ? 'out' : 'in'} (${s.sigma.length})`,
      points: s.sigma.map((v, k) => [k + 1, s.sigma[0] > 0 ? v / s.sigma[0] : 0] as [number, number]),
      color,
      dashed: s.mode === 1,
      dots: s.sigma.length <= 24,
    }));
    const what = isLowRank(l) ? `core ${l.ranks.join('×')}` : `weight ${l.fullShape.join('×')}`;
    html.push(
      `<figure><figcaption>${l.name}: ${what}</figcaption>${lineChart(series, { width: 280, height: 180, yLog: true, xLabel: 'k', xMin: 1, yMax: 1.3 })}</figure>`,
    );
  }
  $('spectra').innerHTML = html.join('');
}

function drawDigitCanvases(): void {
  if (!grid) return;
  const box = $('digits');
  box.innerHTML = '';
  grid.labels.forEach((label, i) => {
    const fig = document.createElement('figure');
    fig.dataset.label = String(label);
    const cv = document.createElement('canvas');
    cv.width = 28;
    cv.height = 28;
    const g = cv.getContext('2d')!;
    const img = g.createImageData(28, 28);
    for (let p = 0; p < 784; p++) {
      const v = 255 - Math.round(255 * Math.min(1, Math.max(0, grid!.images[i * 784 + p])));
      img.data.set([v, v, v, 255], p * 4);
    }
    g.putImageData(img, 0, 0);
    const cap = document.createElement('figcaption');
    cap.textContent = '–';
    fig.append(cv, cap);
    box.append(fig);
  });
}

function drawPredictions(): void {
  const ev = hist.lastEval;
  if (!ev || !grid) return;
  const figs = $('digits').querySelectorAll('figure');
  figs.forEach((fig, i) => {
    const p = ev.predictions[i];
    if (p === undefined) return;
    const right = p === grid!.labels[i];
    fig.className = right ? 'right' : 'wrong';
    fig.dataset.prediction = String(p);
    fig.querySelector('figcaption')!.textContent = right ? `${p}` : `${p} (is ${grid!.labels[i]})`;
  });
}

/**
 * Drawing is split into parts, each redrawn when its data changed; a frame draws parts until it has
 * spent ~10 ms and leaves the rest to the next frame, so that no single task (script + layout) grows
 * long even when an evaluation changes everything at once.
 */
const parts: [string, () => void][] = [
  ['status', drawStatus],
  ['curves', drawCurves],
  ['ranks', drawRanks],
  ['layers', drawLayers],
  ['predictions', drawPredictions],
  ['spectra', drawSpectra],
];
const stale = new Set<string>();
let lastEvalSeen: EvalReport | null = null;
function frame(): void {
  if (dirty) {
    dirty = false;
    for (const p of ['status', 'curves', 'ranks']) stale.add(p);
    if (hist.lastEval !== lastEvalSeen) {
      lastEvalSeen = hist.lastEval;
      for (const p of ['layers', 'predictions', 'spectra']) stale.add(p);
    }
  }
  const t0 = performance.now();
  try {
    for (const [name, draw] of parts) {
      if (!stale.has(name)) continue;
      stale.delete(name);
      draw();
      if (performance.now() - t0 > 10) break;
    }
  } finally {
    requestAnimationFrame(frame);
  }
}
requestAnimationFrame(frame);
setState('loading');
