/**
 * The page's pure parts under node (no browser): the packed digits give back exactly the split of
 * data.loadMnistEmbedded, the trainer steps / evaluates / checkpoints, and the page bundle stays
 * free of training code (all of it runs in the worker).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadMnistEmbedded } from '../../src/data/mnist-embedded.js';
import { decodeSafetensors } from '../../src/io/safetensors-codec.js';
import { toTensor } from '../../src/io/safetensors-tensor.js';
import { METHOD_NAMES } from '../../src/lowrank/methods/registry.js';
import { buildWeb } from '../../scripts/web-build.js';
import { packDigits, splitDigits, unpackDigits } from '../../examples/web/digits.js';
import { availableMethods, PAGE_METHODS, WebTrainer } from '../../examples/web/trainer.js';

function packageDigits(): number[][] {
  const dir = join(dirname(createRequire(import.meta.url).resolve('mnist')), 'digits');
  return Array.from({ length: 10 }, (_, d) => (JSON.parse(readFileSync(join(dir, `${d}.json`), 'utf8')) as { data: number[] }).data);
}

const packed = packDigits(packageDigits());
const all = unpackDigits(packed.meta, packed.codes);
const tmp = mkdtempSync(join(tmpdir(), 'tuckergrad-web-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('packed digits', () => {
  it('one byte per pixel, 256 values, 10,000 digits', () => {
    expect(packed.meta.values.length).toBe(256);
    expect(packed.meta.classCounts.reduce((a, b) => a + b, 0)).toBe(10_000);
    expect(packed.codes.length).toBe(10_000 * 784);
  });

  it('give exactly the split and normalisation of data.loadMnistEmbedded', () => {
    for (const seed of [0, 3]) {
      const mine = splitDigits(all, { seed, trainSize: 8000, testSize: 2000 });
      const ref = loadMnistEmbedded({ seed });
      expect(mine.train.labels).toEqual(ref.train.labels);
      expect(mine.test.labels).toEqual(ref.test.labels);
      expect(Buffer.from(mine.train.images.buffer).equals(Buffer.from(ref.train.images.buffer))).toBe(true);
      expect(Buffer.from(mine.test.images.buffer).equals(Buffer.from(ref.test.images.buffer))).toBe(true);
    }
  });

  it('reject a digits.bin of the wrong size', () => {
    expect(() => unpackDigits(packed.meta, packed.codes.subarray(1))).toThrow(/digits.bin must hold 10000·784/);
  });
});

describe('WebTrainer', () => {
  const { train, test } = splitDigits(all, { trainSize: 256, testSize: 64 });

  it('offers the page methods the registry has', () => {
    expect(availableMethods()).toEqual(PAGE_METHODS.filter((m) => (METHOD_NAMES as readonly string[]).includes(m)));
    expect(availableMethods()).toEqual(expect.arrayContaining(['full', 'tdlrt']));
    expect(() => new WebTrainer(train, test, { method: 'nope' })).toThrow(/method must be one of/);
  });

  it('tdlrt: warm-up grows the ranks at tau 0, then tau prunes; checkpoint loads back', () => {
    const t = new WebTrainer(train, test, { method: 'tdlrt', batchSize: 16, warmupSteps: 2, tau: 0.3, lr: 0.02, evalSize: 64, maxSteps: 4, maxRank: 16 }, 8);
    const r0 = t.channelRanks();
    const reports = [];
    while (!t.done) reports.push(t.trainStep());
    expect(reports.map((r) => r.tau)).toEqual([0, 0, 0.3, 0.3]);
    expect(reports.every((r) => Number.isFinite(r.loss))).toBe(true);
    const warm = reports[1].ranks;
    const end = reports[3].ranks;
    expect(warm.conv2[0]).toBeGreaterThan(r0.conv2[0]);
    expect(end.conv2[0] * end.conv2[1]).toBeLessThan(warm.conv2[0] * warm.conv2[1]);
    expect(end.conv1).toEqual([20, 1]);

    const ev = t.evaluate();
    expect(ev.step).toBe(4);
    expect(ev.count).toBe(64);
    expect(ev.predictions).toHaveLength(8);
    expect(ev.layers.map((l) => l.name)).toEqual(['conv1', 'conv2', 'fc1', 'fc2']);
    expect(ev.layers[1].compression).toBeGreaterThan(0.5);
    const conv2 = ev.spectra.filter((s) => s.layer === 'conv2');
    expect(conv2.map((s) => s.sigma.length)).toEqual(ev.layers[1].ranks.slice(0, 2));
    for (const s of ev.spectra) for (let k = 1; k < s.sigma.length; k++) expect(s.sigma[k]).toBeLessThanOrEqual(s.sigma[k - 1] * (1 + 1e-12));

    const { tensors, metadata } = decodeSafetensors(t.checkpoint());
    expect(metadata).toMatchObject({ format: 'tuckergrad', model: 'lenet5', method: 'tdlrt', step: '4' });
    // A fresh trainer (other ranks) takes the checkpoint and predicts the same.
    const u = new WebTrainer(train, test, { method: 'tdlrt', maxRank: 16, evalSize: 64 }, 8);
    u.model.loadStateDict(Object.fromEntries(Object.entries(tensors).map(([k, e]) => [k, toTensor(e)])));
    expect(u.channelRanks()).toEqual(t.channelRanks());
    expect(u.evaluate().predictions).toEqual(ev.predictions);
  });

  it('a loss that is not finite ends the run with an explanation, and the run takes no further step', () => {
    const t = new WebTrainer(train, test, { method: 'full', batchSize: 16, lr: 1e30, evalSize: 32 }, 4);
    let err: unknown = null;
    for (let s = 0; s < 10 && !err; s++) {
      try {
        t.trainStep();
      } catch (e) {
        err = e;
      }
    }
    expect(String(err)).toMatch(/the loss is (NaN|-?Infinity)/);
    expect(() => t.trainStep()).toThrow(/the training loop has ended/);
  });

  it('full: ranks stay full and spectra skip the large fc1', () => {
    const t = new WebTrainer(train, test, { method: 'full', batchSize: 16, evalSize: 32, maxSteps: 2 }, 4);
    t.trainStep();
    const r = t.trainStep();
    expect(r.tau).toBeNull();
    expect(r.ranks).toEqual({ conv1: [20, 1], conv2: [50, 20], fc1: [500, 800], fc2: [10, 500] });
    const ev = t.evaluate();
    expect(ev.networkParams).toBe(ev.fullNetworkParams);
    expect(ev.spectra.some((s) => s.layer === 'fc1')).toBe(false);
    expect(ev.spectra.filter((s) => s.layer === 'conv2').map((s) => s.sigma.length)).toEqual([50, 20]);
  });
});

describe('page bundle', () => {
  it('builds; training code is in worker.js only, the page script only draws', async () => {
    const r = await buildWeb({ outDir: tmp, minify: false });
    const main = readFileSync(join(r.outDir, 'main.js'), 'utf8');
    const worker = readFileSync(join(r.outDir, 'worker.js'), 'utf8');
    expect(worker).toContain('RankAdaptiveIntegrator');
    expect(main).not.toContain('RankAdaptiveIntegrator');
    expect(main).not.toContain('CpuBackend');
    expect(r.files['main.js']).toBeLessThan(60_000);
    expect(r.files['digits.bin']).toBe(10_000 * 784);
    // Node built-ins are stubbed, never left as imports a browser would fail on.
    expect(worker).not.toMatch(/\bfrom ["']node:/);
    expect(worker).not.toMatch(/\bimport\(["']node:/);
  });
});
