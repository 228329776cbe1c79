/**
 * Layers describe themselves (issue #20): a new layer type registers its kind next to its class and
 * checkpoints carry it, with no change in io/ or train/. The kind here lives only in this test.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { noGrad } from '../../src/autograd/grad-mode.js';
import { mul } from '../../src/ops/elementwise.js';
import { buildLayer, describeLayer, layerKinds, placeholderElements, registerLayerKind } from '../../src/nn/describe.js';
import { Linear, ReLU, Sequential } from '../../src/nn/layers.js';
import { Module } from '../../src/nn/module.js';
import { Parameter } from '../../src/nn/parameter.js';
import { buildBaseModel, type ModelSpec } from '../../src/nn/zoo.js';
import { setModuleAt } from '../../src/nn/model-structure.js';
import { allocate, type DType } from '../../src/tensor/dtype.js';
import { Generator } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { loadCheckpoint, restoreModel, saveCheckpoint } from '../../src/train/checkpoint.js';
import { tempDir } from '../cli/helpers.js';

/** A per-feature scale: the smallest layer with a weight that no built-in kind describes. */
class Scale extends Module {
  weight: Parameter;
  constructor(
    readonly features: number,
    dtype: DType = 'float32',
  ) {
    super();
    this.weight = new Parameter(new Tensor(allocate(dtype, features), [features]));
  }
  forward(x: Tensor): Tensor {
    return mul(x, this.weight);
  }
}

type ScaleD = { kind: 'Scale'; features: number };
registerLayerKind<Scale, ScaleD>({
  kind: 'Scale',
  type: Scale,
  describe: (m) => ({ features: m.features }),
  build: (d, dtype) => new Scale(d.features, dtype),
  elements: (d) => (Number.isSafeInteger(d.features) && d.features >= 1 ? d.features : Number.NaN),
});

const dir = tempDir('tuckergrad-layer-kinds-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('layer kinds', () => {
  it('a layer type registered outside nn/ is described, rebuilt and bounded like the built-in ones', () => {
    expect(layerKinds()).toContain('Scale');
    expect(describeLayer(new Scale(3))).toEqual({ kind: 'Scale', features: 3 });
    expect(buildLayer({ kind: 'Scale', features: 4 }, 'float64')).toBeInstanceOf(Scale);
    expect(placeholderElements({ kind: 'Scale', features: 5 })).toBe(5);
    expect(placeholderElements({ kind: 'Scale', features: -1 })).toBeNaN();
    expect(placeholderElements({ kind: 'Nope' })).toBeNaN();
    // Nested in a container, it is described by its kind inside the container's description.
    expect(describeLayer(new Sequential(new ReLU(), new Scale(2)))).toEqual({ kind: 'Sequential', layers: [{ kind: 'ReLU' }, { kind: 'Scale', features: 2 }] });
  });

  it('a checkpoint carries the new layer: saved, loaded and rebuilt with its weights, with no change outside the registration', () => {
    const spec: ModelSpec = { builder: 'mlp', numClasses: 10, dtype: 'float32', inputShape: [1, 28, 28] };
    const model = buildBaseModel(spec);
    const scale = new Scale(64);
    const g = new Generator(7);
    for (let i = 0; i < 64; i++) scale.weight.data[i] = g.uniform();
    setModuleAt(model, '2', new Sequential(scale, new ReLU()));
    const p = join(dir, 'scale.safetensors');
    saveCheckpoint(p, { model, modelSpec: spec, kind: 'model' });
    const ckpt = loadCheckpoint(p);
    expect(ckpt.layers).toEqual([{ name: '2', kind: 'Sequential', layers: [{ kind: 'Scale', features: 64 }, { kind: 'ReLU' }] }]);
    const back = restoreModel(ckpt);
    const x = new Tensor(
      Float32Array.from({ length: 2 * 784 }, (_, i) => Math.sin(i)),
      [2, 1, 28, 28],
    );
    expect(Array.from(noGrad(() => back.forward(x)).data)).toEqual(Array.from(noGrad(() => model.forward(x)).data));
  });

  it('a kind name taken by another class is refused; an unknown type is named when described', () => {
    expect(() => registerLayerKind({ kind: 'Linear', type: Scale, describe: () => ({}), build: () => new Scale(1), elements: () => 1 })).toThrow(
      "registerLayerKind: kind 'Linear' is already registered for Linear",
    );
    class Odd extends Module {
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    expect(() => describeLayer(new Odd(), '4')).toThrow(/cannot describe layer '4' of type Odd: the known layer kinds are .*Linear.*Scale/);
    // A subclass without a kind of its own is described as its nearest registered ancestor.
    class MyLinear extends Linear {}
    expect(describeLayer(new MyLinear(2, 3)).kind).toBe('Linear');
  });
});
