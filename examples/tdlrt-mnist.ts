/**
 * The main demo: LeNet-5 trained from scratch on the 10,000 embedded MNIST digits twice — full,
 * and with Tucker convolutions and low-rank linears whose ranks the rank-adaptive integrator
 * (TDLRT) chooses while it trains — then a report of accuracy against compression.
 *
 *   npx tsx examples/tdlrt-mnist.ts [--epochs 5] [--tau 0.1] [--lr 0.05] [--schedule cosine|constant] [--max-rank N] [--seed 0] [--out runs/tdlrt-mnist]
 *
 * Both models train with the same learning rate per epoch: by default cosine annealing from --lr
 * towards 0 over the epochs (optim.CosineAnnealingLR's curve, stepped once per epoch, so epoch 1,
 * the TDLRT warm-up, runs at --lr); --schedule constant keeps --lr throughout.
 *
 * TUCKERGRAD_BACKEND=gpu|auto runs it on the gpu.js backend (in Node under `xvfb-run -a` on Linux).
 *
 * Writes into --out: log.jsonl (one line per epoch and method), ranks.svg (ranks per layer over
 * steps), curves.svg (test accuracy per epoch), report.md.
 */
import { data, getBackend, initBackend, io, lowrank, manualSeed, nn, train, Generator } from '../src/index.js';

// TUCKERGRAD_BACKEND=gpu (or auto) trains on gpu.js; the default is the CPU backend.
await initBackend();
console.log(`backend: ${getBackend().name}`);

const args = process.argv.slice(2);
function opt(name: string, def: number): number;
function opt(name: string, def: string): string;
function opt(name: string, def: number | string): number | string {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = args[i + 1];
  if (v === undefined) throw new Error(`--${name} needs a value`);
  if (typeof def === 'number') {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got '${v}'`);
    return n;
  }
  return v;
}
const epochs = opt('epochs', 5);
const tau = opt('tau', 0.1);
const lr = opt('lr', 0.05);
// No cap by default (docs/design.md §5.1.2: maxRank_i = n_i): the first epoch is an exact full-rank warm-up.
const maxRankArg = opt('max-rank', 0);
const maxRank = maxRankArg > 0 ? maxRankArg : undefined;
const seed = opt('seed', 0);
const out = opt('out', 'runs/tdlrt-mnist');
const schedule = opt('schedule', 'cosine');
if (schedule !== 'cosine' && schedule !== 'constant') throw new Error(`--schedule must be 'cosine' or 'constant', got '${schedule}'`);

/** The learning rate of epoch e (1-based): CosineAnnealingLR's lr·(1 + cos(π·(e−1)/epochs))/2, or lr. */
function lrOfEpoch(e: number): number {
  return schedule === 'cosine' ? (lr * (1 + Math.cos((Math.PI * (e - 1)) / epochs))) / 2 : lr;
}

/** The full method with its optimizer's learning rate settable (the schedule). */
class ScheduledFullMethod extends lowrank.methods.FullMethod {
  setLr(value: number): void {
    if (!this.optimizer) throw new Error('ScheduledFullMethod: call setup(model) before setting the learning rate');
    this.optimizer.lr = value;
  }
}

/** Sets the learning rate a method trains with from the next step on. */
function setLr(method: lowrank.methods.TrainingMethod, value: number): void {
  if (method instanceof ScheduledFullMethod) return method.setLr(value);
  if (method instanceof lowrank.methods.TdlrtMethod) {
    // The integrator exists once the full-rank warm-up (epoch 1, run at lrOfEpoch(1) = lr) has handed over.
    const integrator = method.state;
    if (!integrator) throw new Error('tdlrt-mnist: the TDLRT warm-up is still running at an epoch end; the schedule cannot reach it');
    integrator.lr = value;
    return;
  }
  throw new Error(`tdlrt-mnist: no way to set the learning rate of method '${method.name}'`);
}

const { train: trainSet, test: testSet } = data.loadMnistEmbedded({ seed });
const testLoader = new data.DataLoader(testSet, { batchSize: 500 });
const log = new io.JsonlLogger(`${out}/log.jsonl`, { truncate: true });
const lrText = schedule === 'cosine' ? `lr ${lr} cosine-annealed per epoch` : `lr ${lr}`;
console.log(
  `tuckergrad demo: LeNet-5 on ${trainSet.labels.length} embedded MNIST digits (test ${testSet.labels.length}), ${epochs} epochs, batch 64, SGD ${lrText} momentum 0.9 weight decay 5e-4`,
);

function run(name: string, method: lowrank.methods.TrainingMethod) {
  manualSeed(seed);
  const loader = new data.DataLoader(trainSet, { batchSize: 64, shuffle: true, seed });
  const model = method.setup(nn.lenet5(), { stepsPerEpoch: loader.length, epochs, generator: new Generator(seed + 1) });
  const rankTrace: Record<string, [number, number][][]> = {};
  let stepIndex = 0;
  let epochLr = lrOfEpoch(1);
  const records = train.fit(model, loader, {
    epochs,
    step: (x, y) => method.step(x, y),
    testLoader,
    label: name,
    extras: () => ({ ...(method.progress?.() ?? {}), lr: epochLr }),
    onStep: () => {
      stepIndex++;
      const integrator = method instanceof lowrank.methods.TdlrtMethod ? method.state : null;
      if (integrator && stepIndex % 5 === 0) {
        for (const [layer, ranks] of Object.entries(integrator.ranks())) {
          rankTrace[layer] ??= [[], []];
          rankTrace[layer][0].push([stepIndex, ranks[0]]);
          rankTrace[layer][1].push([stepIndex, ranks[1]]);
        }
      }
    },
    onEpochEnd: (r) => {
      log.log({ method: name, ...r });
      if (r.epoch < epochs && lrOfEpoch(r.epoch + 1) !== epochLr) {
        epochLr = lrOfEpoch(r.epoch + 1);
        setLr(method, epochLr);
      }
    },
  });
  const final = method.finalize();
  const ev = train.evaluate(final, testLoader);
  return { records, accuracy: ev.accuracy, report: method.report(), rankTrace, model: final };
}

const full = run('full', new ScheduledFullMethod({ lr }));
const tdlrt = run('tdlrt', new lowrank.methods.TdlrtMethod({ lr, tau, maxRank }));

const rr = lowrank.rankReport(tdlrt.model, { inputShape: [1, 28, 28] });
const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const factorised = tdlrt.report.fullParams / tdlrt.report.params;
const lines = [
  `# TDLRT on embedded MNIST (LeNet-5, ${epochs} epochs, seed ${seed}, SGD ${lrText})`,
  '',
  '| model | test accuracy | parameters (whole net) | factorised layers (conv2 + fc1) |',
  '|---|---|---|---|',
  `| full | ${pct(full.accuracy)} | ${full.report.networkParams} | ${rr.fullParams} |`,
  `| TDLRT τ=${tau} | ${pct(tdlrt.accuracy)} | ${tdlrt.report.networkParams} (${pct(1 - tdlrt.report.networkParams / tdlrt.report.fullNetworkParams)} fewer) | ${rr.params} (${factorised.toFixed(1)}× fewer) |`,
  '',
  '```',
  rr.table,
  '```',
  '',
  `Accuracy gap to the full model: ${((full.accuracy - tdlrt.accuracy) * 100).toFixed(2)} points.`,
];
io.writeFileAtomic(`${out}/report.md`, lines.join('\n') + '\n');
const series = Object.entries(tdlrt.rankTrace).flatMap(([layer, [r0, r1]]) => [
  { name: `layer ${layer} mode 0 (out)`, points: r0 },
  { name: `layer ${layer} mode 1 (in)`, points: r1, dashed: true },
]);
io.writeFileAtomic(
  `${out}/ranks.svg`,
  io.stepChart({ title: `TDLRT ranks over training (τ = ${tau}; epoch 1 is the full-rank warm-up)`, xLabel: 'step', yLabel: 'rank', series }),
);
io.writeFileAtomic(
  `${out}/curves.svg`,
  io.lineChart({
    title: 'Test accuracy per epoch',
    xLabel: 'epoch',
    yLabel: 'test accuracy (%)',
    series: [
      { name: 'full', points: full.records.map((r) => [r.epoch, 100 * (r.testAccuracy ?? NaN)] as [number, number]) },
      { name: `TDLRT τ=${tau}`, points: tdlrt.records.map((r) => [r.epoch, 100 * (r.testAccuracy ?? NaN)] as [number, number]) },
    ],
  }),
);
console.log('\n' + lines.join('\n'));
console.log(`\nwrote ${out}/report.md, ${out}/ranks.svg, ${out}/curves.svg, ${out}/log.jsonl`);
