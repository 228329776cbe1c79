/**
 * The training worker: loads the packed digits, installs the chosen backend, and runs WebTrainer
 * (the library's training loop, src/train/loop.ts) one step at a time, yielding to its event loop
 * between steps so that pause, reset and checkpoint requests are answered within one step. A loss
 * that is not finite ends the run with the loop's own message. The page's main thread only draws.
 */
import { getBackend, setBackend } from '../../src/backend/index.js';
import { BACKEND_CHOICES, findBackend } from './backends.js';
import { splitDigits, unpackDigits, type DigitsMeta } from './digits.js';
import type { FromWorker, PageConfig, ToWorker } from './protocol.js';
import { availableMethods, WebTrainer } from './trainer.js';
import type { Dataset } from '../../src/data/dataset.js';

const GRID = 24;
const ctx = self as unknown as { postMessage(msg: FromWorker, transfer?: Transferable[]): void; onmessage: ((e: MessageEvent<ToWorker>) => void) | null };
const post = (msg: FromWorker, transfer: Transferable[] = []) => ctx.postMessage(msg, transfer);

let data: { train: Dataset; test: Dataset } | null = null;
let trainer: WebTrainer | null = null;
let running = false;
let looping = false;
/** Queue of messages that arrive while the digits are loading. */
let pending: ToWorker[] | null = [];

async function load(): Promise<void> {
  const t0 = performance.now();
  const [metaRes, binRes] = await Promise.all([fetch('digits.json'), fetch('digits.bin')]);
  if (!metaRes.ok || !binRes.ok) throw new Error(`cannot load the digits: digits.json ${metaRes.status}, digits.bin ${binRes.status} (run npm run web:build)`);
  const meta = (await metaRes.json()) as DigitsMeta;
  const codes = new Uint8Array(await binRes.arrayBuffer());
  data = splitDigits(unpackDigits(meta, codes));
  const per = 28 * 28;
  const gridImages = new Float32Array(GRID * per);
  // Undo the normalisation for display.
  for (let i = 0; i < gridImages.length; i++) gridImages[i] = data.test.images[i] * 0.3081 + 0.1307;
  post(
    {
      type: 'ready',
      methods: availableMethods(),
      backends: BACKEND_CHOICES.filter((b) => b.available()).map((b) => b.name),
      trainSize: data.train.labels.length,
      testSize: data.test.labels.length,
      gridImages,
      gridLabels: Array.from(data.test.labels.slice(0, GRID)),
      loadMs: performance.now() - t0,
    },
    [gridImages.buffer],
  );
}

async function configure(config: PageConfig): Promise<void> {
  running = false;
  trainer = null;
  if (!data) throw new Error('digits not loaded');
  const choice = findBackend(config.backend);
  if (!choice.available()) throw new Error(`backend '${config.backend}' is not available in this browser`);
  if (getBackend().name !== choice.name) setBackend(await choice.create());
  trainer = new WebTrainer(data.train, data.test, config, GRID);
  post({ type: 'configured', backend: getBackend().name, config: { ...trainer.config, backend: getBackend().name }, stepsPerEpoch: trainer.stepsPerEpoch });
  post({ type: 'eval', report: trainer.evaluate() });
  post({ type: 'state', state: 'idle' });
}

const yieldToEvents = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

async function loop(): Promise<void> {
  if (looping) return;
  looping = true;
  try {
    while (running && trainer && !trainer.done) {
      const t = trainer;
      const report = t.trainStep();
      if (t !== trainer) break;
      post({ type: 'step', report });
      if (report.step % t.config.evalEvery === 0 || t.done) post({ type: 'eval', report: t.evaluate() });
      await yieldToEvents();
    }
    if (trainer?.done) {
      running = false;
      post({ type: 'state', state: 'done' });
    } else if (trainer && !running) post({ type: 'state', state: 'paused' });
  } finally {
    looping = false;
  }
}

async function handle(msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'configure':
      await configure(msg.config);
      return;
    case 'start':
      if (!trainer) throw new Error('press reset to set up a run first');
      if (trainer.done) return;
      running = true;
      post({ type: 'state', state: 'running' });
      // While a loop is still winding down it picks the new 'running' up itself.
      void loop().catch(fail);
      return;
    case 'pause':
      running = false;
      if (!looping && trainer) post({ type: 'state', state: 'paused' });
      return;
    case 'checkpoint': {
      if (!trainer) throw new Error('nothing to save yet');
      const bytes = trainer.checkpoint();
      const c = trainer.config;
      const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      post({ type: 'checkpoint', bytes: buf, fileName: `lenet5-${c.method}${c.method === 'tdlrt' ? `-tau${c.tau}` : ''}-step${trainer.step}.safetensors` }, [
        buf,
      ]);
      return;
    }
  }
}

function fail(err: unknown): void {
  running = false;
  post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  post({ type: 'state', state: 'error' });
}

ctx.onmessage = (e) => {
  if (pending) pending.push(e.data);
  else handle(e.data).catch(fail);
};

load()
  .then(async () => {
    const queued = pending ?? [];
    pending = null;
    for (const m of queued) await handle(m);
  })
  .catch(fail);
