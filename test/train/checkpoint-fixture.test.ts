/**
 * Checkpoints users already have keep loading (issue #20): a training checkpoint of format
 * tuckergrad-checkpoint/1, committed as written (test/fixtures/checkpoint-v1/README.md), is read,
 * rebuilt into the same model and method state (its unversioned TDLRT state read as version 1),
 * written back byte for byte, and resumed.
 */
import { cpSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { captureMethodState, restoreMethodState } from '../../src/lowrank/method-state.js';
import { CHECKPOINT_FORMAT, encodeCheckpoint, loadCheckpoint, restoreModel } from '../../src/train/checkpoint.js';
import { conformModel } from '../../src/nn/model-structure.js';
import { loadModelState } from '../../src/lowrank/load-state.js';
import { buildBaseModel } from '../../src/nn/zoo.js';
import type { StateTree } from '../../src/tensor/state-tree.js';
import { encodeWithChecksum } from '../../src/io/safetensors-file.js';
import { createMethod } from '../../src/lowrank/methods/registry.js';
import { Generator } from '../../src/tensor/random.js';
import { runCli, tempDir } from '../cli/helpers.js';

const FIXTURE = join(import.meta.dirname, '../fixtures/checkpoint-v1');
const CKPT = join(FIXTURE, 'checkpoint.safetensors');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('the committed checkpoint of format 1', () => {
  it('loads, verified, with the model, layers and sections it was written with', () => {
    const ckpt = loadCheckpoint(CKPT);
    expect(ckpt.metadata['tuckergrad.format']).toBe(CHECKPOINT_FORMAT);
    expect([ckpt.verified, ckpt.kind, ckpt.modelSpec.builder, ckpt.method?.name]).toEqual([true, 'training', 'mlp', 'tdlrt']);
    expect(ckpt.layers.map((l) => [l.name, l.kind])).toEqual([
      ['1', 'LowRankLinear'],
      ['3', 'LowRankLinear'],
    ]);
    expect(Object.keys(ckpt.sections).sort()).toEqual(['backend', 'loader', 'progress', 'rng', 'run', 'schedule']);
  });

  it('rebuilds the model and the method state, and writes the same bytes back', () => {
    const ckpt = loadCheckpoint(CKPT);
    const model = restoreModel(ckpt);
    for (const [k, t] of Object.entries(ckpt.modelState)) expect(model.stateDict()[k].data, k).toEqual(t.data);
    // The method as a resume builds it: setup on the builder's model, then the saved structure, weights and state.
    const run = ckpt.sections.run as { methodOptions: Record<string, unknown>; epochs: number };
    const method = createMethod('tdlrt', run.methodOptions as never);
    const live = method.setup(buildBaseModel(ckpt.modelSpec), { stepsPerEpoch: 2, epochs: run.epochs, generator: new Generator(1) });
    conformModel(live, ckpt.modelSpec, ckpt.layers);
    loadModelState(live, ckpt.modelState);
    const state = (ckpt.state as { method: StateTree }).method;
    restoreMethodState(method, state);
    // The file's TDLRT state predates versioned states: the method reads it as version 1 and gives
    // back the same state, now naming its version.
    const saved = (state as { custom: Record<string, StateTree> }).custom;
    expect(saved).not.toHaveProperty('version');
    expect((captureMethodState(method) as { custom: StateTree }).custom).toEqual({ ...saved, version: 1 });
    const again = encodeCheckpoint({
      model: live,
      modelSpec: ckpt.modelSpec,
      kind: 'training',
      method: ckpt.method,
      state: { method: state },
      sections: ckpt.sections,
    });
    expect(Buffer.from(encodeWithChecksum(again.tensors, again.metadata)).equals(readFileSync(CKPT))).toBe(true);
  });

  it('resumes: the CLI continues the run to the end of its epoch', async () => {
    const out = tempDir('tuckergrad-fixture-');
    dirs.push(out);
    cpSync(FIXTURE, out, { recursive: true });
    const r = await runCli('train', '--out', out, '--resume', '--quiet');
    expect(r.code, r.stderr).toBe(0);
    const final = loadCheckpoint(join(out, 'model.safetensors'));
    expect(final.sections.metrics).toMatchObject({ epoch: 1, step: 2 });
  });
});
