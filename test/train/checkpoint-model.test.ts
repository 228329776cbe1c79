import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBaseModel, type ModelSpec } from '../../src/nn/zoo.js';
import { captureMethodState, restoreMethodState } from '../../src/lowrank/method-state.js';
import { CHECKPOINT_FORMAT, encodeCheckpoint, loadCheckpoint, restoreModel, saveCheckpoint } from '../../src/train/checkpoint.js';
import { conformModel, describeModel, setModuleAt } from '../../src/nn/model-structure.js';
import { loadModelState } from '../../src/lowrank/load-state.js';
import type { StateTree } from '../../src/tensor/state-tree.js';
import { encodeSafetensors } from '../../src/io/safetensors-codec.js';
import { saveSafetensors } from '../../src/io/safetensors-file.js';
import { fromTensor } from '../../src/io/safetensors-tensor.js';
import { factorize } from '../../src/lowrank/factorize.js';
import { createMethod } from '../../src/lowrank/methods/registry.js';
import { TuckerConv2d } from '../../src/lowrank/tucker-conv2d.js';
import { TuckerLayer } from '../../src/lowrank/tucker-layer.js';
import { Module } from '../../src/nn/module.js';
import { type Conv2d, Sequential } from '../../src/nn/layers.js';
import { noGrad } from '../../src/autograd/grad-mode.js';
import { Generator } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { tempDir } from '../cli/helpers.js';

const LENET: ModelSpec = { builder: 'lenet5', numClasses: 10, dtype: 'float32', inputShape: [1, 28, 28] };

let dir: string;
beforeAll(() => {
  dir = tempDir('tuckergrad-ckpt-model-');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function batch(n: number, seed: number): { x: Tensor; y: Int32Array } {
  const g = new Generator(seed);
  const x = new Float32Array(n * 784).map(() => g.normal());
  return { x: new Tensor(x, [n, 1, 28, 28]), y: Int32Array.from({ length: n }, (_, i) => i % 10) };
}

/** A factorised LeNet-5 trained a few TDLRT steps: ranks away from the start, momentum in the integrator. */
function trainedTdlrt() {
  const method = createMethod('tdlrt', { lr: 0.05, momentum: 0.9, weightDecay: 5e-4, tau: 0.2, maxRank: 12, rankRatio: 0.3, warmupEpochs: 0 });
  const model = method.setup(buildBaseModel(LENET), { stepsPerEpoch: 3, epochs: 1, generator: new Generator(7) });
  for (let s = 0; s < 3; s++) {
    const { x, y } = batch(8, s);
    method.step(x, y);
  }
  return { method, model };
}

function forward(model: Module, x: Tensor): Float32Array {
  return noGrad(() => model.eval().forward(x)).data as Float32Array;
}

/**
 * An independent safetensors reader written from the format's specification
 * (https://github.com/huggingface/safetensors#format): 8 bytes little-endian u64 N, then N bytes of
 * UTF-8 JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}, then
 * the byte buffer; offsets are relative to the buffer, tensors are little-endian, row-major.
 */
function readSafetensorsFromSpec(bytes: Uint8Array): {
  header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  metadata: Record<string, string>;
  values: Record<string, number[]>;
} {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  expect(8 + n).toBeLessThanOrEqual(bytes.length);
  const json = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  expect(json.startsWith('{')).toBe(true); // the spec: the header starts with '{'
  expect(json.trimEnd().endsWith('}')).toBe(true); // and may be padded with spaces only
  const parsed = JSON.parse(json) as Record<string, unknown>;
  const metadata = (parsed.__metadata__ ?? {}) as Record<string, string>;
  delete parsed.__metadata__;
  const header = parsed as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const start = 8 + n;
  const size: Record<string, number> = { F64: 8, F32: 4, I64: 8, I32: 4, U8: 1 };
  const values: Record<string, number[]> = {};
  const spans: [number, number][] = [];
  for (const [name, info] of Object.entries(header)) {
    const [b, e] = info.data_offsets;
    const count = info.shape.reduce((a, c) => a * c, 1);
    expect(e - b, name).toBe(count * size[info.dtype]);
    spans.push([b, e]);
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      const at = start + b + i * size[info.dtype];
      if (info.dtype === 'F32') out.push(view.getFloat32(at, true));
      else if (info.dtype === 'F64') out.push(view.getFloat64(at, true));
      else if (info.dtype === 'I32') out.push(view.getInt32(at, true));
      else throw new Error(`unexpected dtype ${info.dtype}`);
    }
    values[name] = out;
  }
  // The buffer is covered exactly: no gaps, no overlaps, nothing after the last tensor.
  spans.sort((a, b) => a[0] - b[0]);
  let at = 0;
  for (const [b, e] of spans) {
    expect(b).toBe(at);
    at = e;
  }
  expect(start + at).toBe(bytes.length);
  return { header, metadata, values };
}

describe('model checkpoints', () => {
  it('round-trip: a factorised model and its training state are read back identical, and a fresh model rebuilt from them computes the same', () => {
    const { method, model } = trainedTdlrt();
    const ranks = Object.fromEntries(
      model
        .namedModules()
        .filter(([, m]) => m instanceof TuckerLayer)
        .map(([n, m]) => [n, (m as TuckerLayer).ranks]),
    );
    expect(ranks['3'].slice(0, 2)).not.toEqual([15, 6]); // the integrator moved them from the factorised start
    const state = captureMethodState(method);
    const path = join(dir, 'roundtrip.safetensors');
    saveCheckpoint(path, {
      model,
      modelSpec: LENET,
      kind: 'training',
      method: { name: 'tdlrt', options: { lr: 0.05 } },
      state: { method: state },
      sections: { progress: { epoch: 0, step: 3 }, rng: { spare: Number.NaN } },
    });

    const ckpt = loadCheckpoint(path);
    expect(ckpt.kind).toBe('training');
    expect(ckpt.modelSpec).toEqual(LENET);
    expect(ckpt.ranks).toEqual(ranks);
    expect(ckpt.layers.map((l) => [l.name, l.kind])).toEqual([
      ['3', 'TuckerConv2d'],
      ['7', 'LowRankLinear'],
    ]);
    expect(ckpt.method).toEqual({ name: 'tdlrt', options: { lr: 0.05 } });
    expect(ckpt.sections.progress).toEqual({ epoch: 0, step: 3 });
    expect(ckpt.metadata['tuckergrad.format']).toBe(CHECKPOINT_FORMAT);
    const sd = model.stateDict();
    expect(Object.keys(ckpt.modelState).sort()).toEqual(Object.keys(sd).sort());
    for (const [k, t] of Object.entries(sd)) {
      expect(ckpt.modelState[k].shape, k).toEqual(t.shape);
      expect(Buffer.from(ckpt.modelState[k].data.buffer).equals(Buffer.from(t.data.buffer)), k).toBe(true);
    }
    // The training state: the integrator's core velocities (float64) and the SGD buffers come back bit for bit.
    const back = (ckpt.state as { method: StateTree }).method;
    // (TDLRT keeps its own state: { custom: { phase, integrator: { velocity, others, … } } }.)
    const velocityOf = (t: StateTree) => (t as { custom: { integrator: { velocity: Record<string, Float64Array> } } }).custom.integrator.velocity;
    expect(Object.keys(velocityOf(state))).toEqual(['3', '7']);
    for (const k of ['3', '7']) {
      expect(velocityOf(back)[k]).toBeInstanceOf(Float64Array);
      expect(Array.from(velocityOf(back)[k])).toEqual(Array.from(velocityOf(state)[k]));
    }
    // Re-encoding what was read gives the same bytes.
    const again = join(dir, 'again.safetensors');
    const rebuilt = restoreModel(ckpt);
    saveCheckpoint(again, { model: rebuilt, modelSpec: LENET, kind: 'training', method: ckpt.method, state: { method: back }, sections: ckpt.sections });
    expect(readFileSync(again).equals(readFileSync(path))).toBe(true);
    // The rebuilt model (fresh objects, placeholder ranks resized on load) computes exactly the same.
    const { x } = batch(4, 99);
    expect(Array.from(forward(rebuilt, x))).toEqual(Array.from(forward(model, x)));
    // And the restored method continues exactly as the original.
    const method2 = createMethod('tdlrt', { lr: 0.05, momentum: 0.9, weightDecay: 5e-4, tau: 0.2, maxRank: 12, rankRatio: 0.3, warmupEpochs: 0 });
    const model2 = method2.setup(buildBaseModel(LENET), { stepsPerEpoch: 3, epochs: 1, generator: new Generator(7) });
    conformModel(model2, LENET, ckpt.layers);
    loadModelState(model2, ckpt.modelState);
    restoreMethodState(method2, back);
    const next = batch(8, 3);
    method.step(next.x, next.y);
    method2.step(next.x, next.y);
    const a = model.stateDict();
    const b = model2.stateDict();
    for (const k of Object.keys(a)) expect(Buffer.from(b[k].data.buffer).equals(Buffer.from(a[k].data.buffer)), k).toBe(true);
  });

  it('parses with an independent reader written from the safetensors specification', () => {
    const { model } = trainedTdlrt();
    const path = join(dir, 'spec.safetensors');
    saveCheckpoint(path, { model, modelSpec: LENET, kind: 'model' });
    const { header, metadata, values } = readSafetensorsFromSpec(new Uint8Array(readFileSync(path)));
    expect(metadata.format).toBe('pt');
    expect(metadata['tuckergrad.format']).toBe(CHECKPOINT_FORMAT);
    expect(JSON.parse(metadata['tuckergrad.model'])).toEqual(LENET);
    expect(metadata['tuckergrad.sha256']).toMatch(/^[0-9a-f]{64}$/);
    for (const [k, t] of Object.entries(model.stateDict())) {
      const entry = header[`model.${k}`];
      expect(entry, k).toBeDefined();
      expect(entry.dtype).toBe('F32');
      expect(entry.shape).toEqual(t.shape);
      expect(values[`model.${k}`]).toEqual(Array.from(t.data));
    }
    // Tucker cores and factors are there under their names, with the ranks in their shapes and in the metadata.
    const ranks = JSON.parse(metadata['tuckergrad.ranks']) as Record<string, number[]>;
    expect(header['model.3.core'].shape).toEqual(ranks['3']);
    expect(header['model.3.factors.0'].shape).toEqual([50, ranks['3'][0]]);
    expect(header['model.7.factors.1'].shape).toEqual([800, ranks['7'][1]]);
  });

  const python = (() => {
    try {
      execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  it.skipIf(!python)('numpy reads it too (a reader in another language)', () => {
    const { model } = trainedTdlrt();
    const path = join(dir, 'numpy.safetensors');
    saveCheckpoint(path, { model, modelSpec: LENET, kind: 'model' });
    const script = [
      'import json, struct, sys, numpy as np',
      'b = open(sys.argv[1], "rb").read()',
      'n = struct.unpack("<Q", b[:8])[0]',
      'h = json.loads(b[8:8 + n])',
      'm = h.pop("__metadata__")',
      'dt = {"F32": "<f4", "F64": "<f8", "I32": "<i4"}',
      'out = {k: float(np.frombuffer(b[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]], dtype=dt[v["dtype"]]).astype(np.float64).sum()) for k, v in h.items()}',
      'print(json.dumps({"sums": out, "format": m["format"]}))',
    ].join('\n');
    const res = JSON.parse(execFileSync('python3', ['-c', script, path], { encoding: 'utf8' })) as { sums: Record<string, number>; format: string };
    expect(res.format).toBe('pt');
    for (const [k, t] of Object.entries(model.stateDict())) {
      const sum = Array.from(t.data).reduce((a, v) => a + v, 0);
      expect(res.sums[`model.${k}`]).toBeCloseTo(sum, 6);
    }
  });

  it('describes only the layers that differ from the builder, including fields of residual blocks', () => {
    expect(describeModel(buildBaseModel(LENET), LENET)).toEqual([]);
    const spec: ModelSpec = { builder: 'resnet20', numClasses: 10, dtype: 'float32', inputShape: [3, 32, 32] };
    const model = buildBaseModel(spec);
    const name = '6.conv1'; // the first block of the second stage: 16 → 32 channels, stride 2
    const conv = model.namedModules().find(([n]) => n === name)?.[1] as Conv2d;
    const w = conv.weight;
    const tucker = factorize(new Sequential(conv), { skip: [], ranks: { '0': [4, 3, 3, 3] } }).layers[0] as TuckerConv2d;
    expect(w.shape).toEqual([32, 16, 3, 3]);
    setModuleAt(model, name, tucker);
    const layers = describeModel(model, spec);
    expect(layers).toEqual([
      {
        name,
        kind: 'TuckerConv2d',
        fullShape: [32, 16, 3, 3],
        ranks: [4, 3, 3, 3],
        stored: [true, true, false, false],
        adaptModes: [0, 1],
        bias: false,
        stride: 2,
        padding: 1,
        dilation: 1,
      },
    ]);
    const path = join(dir, 'resnet.safetensors');
    saveCheckpoint(path, { model, modelSpec: spec, kind: 'model' });
    const rebuilt = restoreModel(loadCheckpoint(path));
    expect(rebuilt.namedModules().find(([n]) => n === name)?.[1]).toBeInstanceOf(TuckerConv2d);
    const g = new Generator(1);
    const x = new Tensor(
      new Float32Array(2 * 3 * 32 * 32).map(() => g.normal()),
      [2, 3, 32, 32],
    );
    expect(Array.from(forward(rebuilt, x))).toEqual(Array.from(forward(model, x)));
  });

  it('loads in place when shapes match (optimizers keep their parameters) and resizes low-rank layers when ranks differ', () => {
    const { model } = trainedTdlrt();
    const sd = model.stateDict();
    const other = trainedTdlrt().model;
    const before = other.parameters();
    loadModelState(other, sd);
    expect(other.parameters().every((p, i) => p === before[i])).toBe(true);
    const fresh = buildBaseModel(LENET);
    factorize(fresh, { rankRatio: 1, init: 'random', generator: new Generator(3) });
    loadModelState(fresh, sd);
    for (const [k, t] of Object.entries(fresh.stateDict())) expect(Array.from(t.data), k).toEqual(Array.from(sd[k].data));
  });
});

describe('bad checkpoints: clear errors, nothing changed', () => {
  let good: string;
  beforeAll(() => {
    good = join(dir, 'good.safetensors');
    saveCheckpoint(good, { model: trainedTdlrt().model, modelSpec: LENET, kind: 'model' });
  });

  it('a truncated file is corrupt', () => {
    const p = join(dir, 'cut.safetensors');
    writeFileSync(p, readFileSync(good).subarray(0, 5000));
    expect(() => loadCheckpoint(p)).toThrow(
      /checkpoint .*cut\.safetensors is corrupt: safetensors: tensor "model\..*": data_offsets \[\d+, \d+\] exceed the data buffer/,
    );
  });

  it('a flipped byte fails the checksum', () => {
    const p = join(dir, 'flip.safetensors');
    const bytes = readFileSync(good);
    bytes[bytes.length - 10] ^= 0x40;
    writeFileSync(p, bytes);
    expect(() => loadCheckpoint(p)).toThrow(/is corrupt: checksum mismatch/);
  });

  it('a safetensors file from another tool is named as such', () => {
    const p = join(dir, 'plain.safetensors');
    writeFileSync(p, encodeSafetensors({ w: { dtype: 'F32', shape: [2], data: new Float32Array(2) } }, { format: 'pt' }));
    expect(() => loadCheckpoint(p)).toThrow(/is not a tuckergrad checkpoint: its metadata has no tuckergrad.format \(it holds 1 tensors, e.g. 'w'\)/);
  });

  it('with allowPlain, a plain state dict loads as the one builder it fits, unverified, and rebuilds the same model', () => {
    const model = buildBaseModel({ builder: 'mlp', numClasses: 7, dtype: 'float64', inputShape: [1, 28, 28] });
    const plain = (prefix: string) => Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [`${prefix}${k}`, fromTensor(t)]));
    for (const prefix of ['', 'model.']) {
      const p = join(dir, `plain-mlp${prefix}.safetensors`);
      writeFileSync(p, encodeSafetensors(plain(prefix)));
      expect(() => loadCheckpoint(p)).toThrow(/is not a tuckergrad checkpoint/);
      const ckpt = loadCheckpoint(p, { allowPlain: true });
      expect(ckpt.verified).toBe(false);
      expect([ckpt.kind, ckpt.modelSpec]).toEqual(['model', { builder: 'mlp', numClasses: 7, dtype: 'float64', inputShape: [1, 28, 28] }]);
      const back = restoreModel(ckpt);
      for (const [k, t] of Object.entries(model.stateDict())) expect(back.stateDict()[k].data).toEqual(t.data);
    }
    expect(loadCheckpoint(good).verified).toBe(true);
  });

  it('with allowPlain, tensors that fit no builder, mixed dtypes or integer tensors are refused by name', () => {
    const cases: [Record<string, { dtype: 'F32' | 'F64' | 'I32'; shape: number[]; data: Float32Array | Float64Array | Int32Array }>, RegExp][] = [
      [{ w: { dtype: 'F32', shape: [2], data: new Float32Array(2) } }, /its 1 tensors \('w' \[2\]\) are not the state dict of any model builder \(lenet5, /],
      [{ a: { dtype: 'F32', shape: [1], data: new Float32Array(1) }, b: { dtype: 'F64', shape: [1], data: new Float64Array(1) } }, /mixes F32 and F64 tensors/],
      [{ n: { dtype: 'I32', shape: [1], data: new Int32Array(1) } }, /tensor 'n' must be F32 or F64 to be a model weight, got I32/],
      [{}, /holds no tensors/],
    ];
    cases.forEach(([tensors, message], i) => {
      const p = join(dir, `plain-bad-${i}.safetensors`);
      writeFileSync(p, encodeSafetensors(tensors));
      expect(() => loadCheckpoint(p, { allowPlain: true })).toThrow(message);
    });
  });

  it('garbled metadata and an unknown layer kind are reported', () => {
    const { tensors, metadata } = encodeCheckpoint({ model: trainedTdlrt().model, modelSpec: LENET, kind: 'model' });
    const p1 = join(dir, 'badjson.safetensors');
    saveSafetensors(p1, tensors, { ...metadata, 'tuckergrad.layers': '[{"name": "3",' });
    expect(() => loadCheckpoint(p1)).toThrow(/metadata tuckergrad.layers is not valid JSON/);
    const p2 = join(dir, 'badkind.safetensors');
    saveSafetensors(p2, tensors, { ...metadata, 'tuckergrad.layers': '[{"name":"3","kind":"FancyConv"}]' });
    expect(() => restoreModel(loadCheckpoint(p2))).toThrow(/cannot rebuild layer '3': .*unknown layer kind "FancyConv"/);
    const p3 = join(dir, 'badbuilder.safetensors');
    saveSafetensors(p3, tensors, { ...metadata, 'tuckergrad.model': JSON.stringify({ ...LENET, builder: 'vgg99' }) });
    expect(() => loadCheckpoint(p3)).toThrow(/unknown model builder 'vgg99' \(known: lenet5, small-vgg, resnet20, mlp\)/);
  });

  // Issue #19, defect 1: an edited training state (the integrator's lr) was accepted on resume.
  it('an edited metadata value (the training state) fails the checksum', () => {
    const p = join(dir, 'lr.safetensors');
    const { method, model } = trainedTdlrt();
    saveCheckpoint(p, { model, modelSpec: LENET, kind: 'training', state: { method: captureMethodState(method) } });
    const text = readFileSync(p).toString('latin1');
    expect(text).toContain('\\"lr\\":0.05');
    writeFileSync(p, Buffer.from(text.replace('\\"lr\\":0.05', '\\"lr\\":0.95'), 'latin1'));
    expect(() => loadCheckpoint(p)).toThrow(/is corrupt: checksum mismatch/);
  });

  // Issue #19, defect 1: with tuckergrad.sha256 removed, a flipped data bit loaded.
  it('a checkpoint without its checksum key is refused, naming the key', () => {
    const { tensors, metadata } = encodeCheckpoint({ model: trainedTdlrt().model, modelSpec: LENET, kind: 'model' });
    const p = join(dir, 'nosum.safetensors');
    writeFileSync(p, encodeSafetensors(tensors, metadata));
    expect(() => loadCheckpoint(p)).toThrow(/is corrupt: its metadata has tuckergrad.format but no tuckergrad.sha256/);
  });

  // Issue #19, defect 5: an inflated numClasses or layer size drove allocations of most of a gigabyte
  // before the state load's shape check. Now loadCheckpoint, which builds nothing, refuses them.
  it('an inflated numClasses, inputShape or layer size is refused before any model is built', () => {
    const { tensors, metadata } = encodeCheckpoint({ model: trainedTdlrt().model, modelSpec: LENET, kind: 'model' });
    const save = (name: string, edit: Record<string, string>) => {
      const p = join(dir, name);
      saveSafetensors(p, tensors, { ...metadata, ...edit }); // a valid checksum: only the bounds can tell
      return p;
    };
    expect(() => loadCheckpoint(save('classes.safetensors', { 'tuckergrad.model': JSON.stringify({ ...LENET, numClasses: 400_000_000 }) }))).toThrow(
      /numClasses 400000000 does not fit the \d+ weights the file holds/,
    );
    expect(() => loadCheckpoint(save('classes2.safetensors', { 'tuckergrad.model': JSON.stringify({ ...LENET, numClasses: 1000 }) }))).toThrow(
      /the tensors do not fit the model it describes \(lenet5, 1000 classes\): '9.weight' is \[10, 500\], the model needs \[1000, 500\]/,
    );
    expect(() => loadCheckpoint(save('input.safetensors', { 'tuckergrad.model': JSON.stringify({ ...LENET, inputShape: [1, 28000, 28000] }) }))).toThrow(
      /inputShape \[1,28000,28000\] is not the 1×28×28 that builder 'lenet5' takes/,
    );
    const layers = JSON.parse(metadata['tuckergrad.layers']) as { name: string; fullShape?: number[] }[];
    const big = layers.map((l) => (l.name === '7' ? { ...l, fullShape: [500, 800_000_000] } : l));
    expect(() => loadCheckpoint(save('layer.safetensors', { 'tuckergrad.layers': JSON.stringify(big) }))).toThrow(
      /describes layer '7' \(LowRankLinear\) with \d+ placeholder weights, but the file holds \d+ under '7.'/,
    );
    const bad = layers.map((l) => (l.name === '3' ? { ...l, fullShape: [50, 20.5, 5, 5] } : l));
    expect(() => loadCheckpoint(save('frac.safetensors', { 'tuckergrad.layers': JSON.stringify(bad) }))).toThrow(
      /describes layer '3' \(TuckerConv2d\) with malformed sizes/,
    );
  });

  it('a state that does not fit the model changes nothing in it', () => {
    const model = buildBaseModel(LENET);
    const before = model.stateDict();
    const sd = model.stateDict();
    sd['0.weight'] = new Tensor(new Float32Array(20 * 25).fill(1), [20, 1, 25]);
    sd['9.bias'] = new Tensor(new Float32Array(10).fill(7), [10]);
    delete sd['7.bias'];
    sd.extra = new Tensor(new Float32Array(1), [1]);
    expect(() => loadModelState(model, sd, 'test')).toThrow(
      /test: the saved state does not fit the model: '0.weight': expected shape \[20, 1, 5, 5\], got \[20, 1, 25\]; missing key '7.bias'; unexpected key 'extra'/,
    );
    for (const [k, t] of Object.entries(model.stateDict())) expect(Array.from(t.data), k).toEqual(Array.from(before[k].data));
  });

  it('a failed save leaves the previous checkpoint and no temp file', () => {
    const p = join(dir, 'keep', 'c.safetensors');
    saveCheckpoint(p, { model: buildBaseModel(LENET), modelSpec: LENET, kind: 'model' });
    const bytes = readFileSync(p);
    class Odd extends Module {
      forward(x: Tensor) {
        return x;
      }
    }
    const model = buildBaseModel(LENET);
    setModuleAt(model, '4', new Odd());
    expect(() => saveCheckpoint(p, { model, modelSpec: LENET, kind: 'model' })).toThrow(/cannot describe layer '4' of type Odd/);
    expect(readFileSync(p).equals(bytes)).toBe(true);
    expect(readdirSync(join(dir, 'keep'))).toEqual(['c.safetensors']);
    expect(existsSync(p)).toBe(true);
  });
});
