import type { Module } from '../nn/module.js';
import { summary } from '../nn/summary.js';
import { tuckerLayers } from './tucker-layers.js';

export interface LayerRankReport {
  name: string;
  kind: string;
  fullShape: number[];
  ranks: number[];
  params: number;
  fullParams: number;
  /** 1 − params/fullParams. */
  compression: number;
  /** Forward FLOPs per sample of the factorised layer and of the same layer held full (when an input shape was given). */
  flops?: number;
  fullFlops?: number;
}

export interface RankReport {
  layers: LayerRankReport[];
  /** Over the factorised layers only. */
  params: number;
  fullParams: number;
  compression: number;
  /** Over the whole network (full layers counted as they are). */
  networkParams: number;
  fullNetworkParams: number;
  networkCompression: number;
  table: string;
}

/** Per low-rank layer: ranks, parameters, FLOPs and compression against the same layer held full. */
export function rankReport(model: Module, options: { inputShape?: readonly number[] } = {}): RankReport {
  const flopsByName = new Map<string, { flops: number; out: number[] }>();
  if (options.inputShape) for (const l of summary(model, options.inputShape).layers) flopsByName.set(l.name, { flops: l.flops, out: l.outputShape });
  const layers: LayerRankReport[] = tuckerLayers(model).map(([name, l]) => {
    const params = l.paramCount();
    const fullParams = l.fullParamCount();
    const rep: LayerRankReport = {
      name,
      kind: l.kind,
      fullShape: [...l.fullShape],
      ranks: l.ranks,
      params,
      fullParams,
      compression: 1 - params / fullParams,
    };
    const f = flopsByName.get(name);
    if (f) {
      rep.flops = f.flops;
      // A full conv/linear costs 2·(weights)·(output positions).
      const positions = f.out.length === 3 ? f.out[1] * f.out[2] : 1;
      rep.fullFlops = 2 * (fullParams - (l.bias ? l.bias.size : 0)) * positions;
    }
    return rep;
  });
  const params = layers.reduce((n, l) => n + l.params, 0);
  const fullParams = layers.reduce((n, l) => n + l.fullParams, 0);
  const networkParams = model.parameters().reduce((n, p) => n + p.size, 0);
  const fullNetworkParams = networkParams - params + fullParams;
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const rows = layers.map(
    (l) =>
      `${l.name.padEnd(8)} ${l.kind.padEnd(14)} ${`[${l.fullShape.join('×')}]`.padEnd(16)} ranks ${`[${l.ranks.join(', ')}]`.padEnd(18)} params ${String(l.params).padStart(8)} / ${String(l.fullParams).padEnd(8)} ${pct(l.compression).padStart(6)} fewer` +
      (l.flops !== undefined ? `  FLOPs ${(l.flops / 1e6).toFixed(2)}M / ${((l.fullFlops ?? 0) / 1e6).toFixed(2)}M` : ''),
  );
  rows.push(
    `factorised layers: ${params} / ${fullParams} parameters (${pct(1 - params / fullParams)} fewer, ${(fullParams / Math.max(1, params)).toFixed(1)}× smaller); whole network: ${networkParams} / ${fullNetworkParams} (${pct(1 - networkParams / fullNetworkParams)} fewer)`,
  );
  return {
    layers,
    params,
    fullParams,
    compression: 1 - params / fullParams,
    networkParams,
    fullNetworkParams,
    networkCompression: 1 - networkParams / fullNetworkParams,
    table: rows.join('\n'),
  };
}
