import type { Module } from './module.js';
import { traceLeaves } from './trace.js';

export interface LayerSummary {
  name: string;
  type: string;
  outputShape: number[];
  params: number;
  flops: number;
}

/**
 * Per leaf layer: output shape, parameter count and forward FLOPs for one sample, found by
 * running one zero sample through the model with each leaf's forward wrapped.
 */
export function summary(model: Module, inputShape: readonly number[]): { layers: LayerSummary[]; totalParams: number; totalFlops: number; table: string } {
  const layers: LayerSummary[] = [];
  traceLeaves(model, inputShape, (name, m, x, y) => {
    const params = m.namedParameters().reduce((n, [, p]) => n + p.size, 0);
    layers.push({ name, type: m.constructor.name, outputShape: [...y.shape.slice(1)], params, flops: m.flops(x.shape.slice(1), y.shape.slice(1)) });
  });
  const totalParams = model.parameters().reduce((n, p) => n + p.size, 0);
  const totalFlops = layers.reduce((n, l) => n + l.flops, 0);
  const rows = layers.map(
    (l) =>
      `${l.name.padEnd(14)} ${l.type.padEnd(18)} ${`[${l.outputShape.join(', ')}]`.padEnd(16)} ${String(l.params).padStart(10)} ${String(l.flops).padStart(12)}`,
  );
  const table = [
    `${'layer'.padEnd(14)} ${'type'.padEnd(18)} ${'output'.padEnd(16)} ${'params'.padStart(10)} ${'FLOPs'.padStart(12)}`,
    ...rows,
    `total params ${totalParams}, forward FLOPs per sample ${totalFlops}`,
  ].join('\n');
  return { layers, totalParams, totalFlops, table };
}
