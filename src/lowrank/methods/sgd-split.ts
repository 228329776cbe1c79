/**
 * SGD for a model with low-rank layers, with weight decay where it means what it means for a
 * full kernel: on cores (the singular-value parts) and on every other parameter, never on the
 * orthonormal-ish factors, whose scale carries no weight magnitude (docs/design.md §5.3). Two optimizers
 * with the same learning rate and momentum, one without weight decay.
 */
import type { Module } from '../../nn/module.js';
import type { Parameter } from '../../nn/parameter.js';
import { SGD } from '../../optim/sgd.js';
import { TuckerLayer } from '../tucker-layer.js';

export interface SgdSettings {
  lr: number;
  /** Default 0.9. */
  momentum?: number;
  /** Default 5e-4. */
  weightDecay?: number;
}

/** Checks the shared SGD settings of a method; returns them with the defaults filled in. */
export function sgdSettings(options: SgdSettings, what: string): Required<SgdSettings> {
  if (options === null || typeof options !== 'object') throw new Error(`${what}: options must be an object with lr, got ${String(options)}`);
  const { lr, momentum = 0.9, weightDecay = 5e-4 } = options;
  if (!(typeof lr === 'number' && lr > 0 && Number.isFinite(lr))) throw new Error(`${what}: lr must be a positive number, got ${lr}`);
  if (!(momentum >= 0 && momentum < 1)) throw new Error(`${what}: momentum must be in [0, 1), got ${momentum}`);
  if (!(weightDecay >= 0)) throw new Error(`${what}: weightDecay must be ≥ 0, got ${weightDecay}`);
  return { lr, momentum, weightDecay };
}

/** The factor parameters of every low-rank layer of a model. */
export function factorParameters(model: Module): Parameter[] {
  const out: Parameter[] = [];
  for (const m of model.modules()) if (m instanceof TuckerLayer) for (const f of m.factors) if (f) out.push(f);
  return out;
}

/** [SGD over every non-factor parameter with weight decay, SGD over the factors without]. */
export function splitSgd(model: Module, s: Required<SgdSettings>): SGD[] {
  const factors = new Set(factorParameters(model));
  const rest = model.parameters().filter((p) => !factors.has(p));
  const out = [new SGD(rest, { lr: s.lr, momentum: s.momentum, weightDecay: s.weightDecay })];
  if (factors.size > 0) out.push(new SGD([...factors], { lr: s.lr, momentum: s.momentum, weightDecay: 0 }));
  return out;
}
