import { Conv2d } from '../../nn/layers.js';
import type { Module } from '../../nn/module.js';
import { MatrixConv2d } from '../matrix-conv2d.js';
import { TuckerConv2d } from '../tucker-conv2d.js';
import { TuckerLayer } from '../tucker-layer.js';
import { TwoStageLayer } from './two-stage.js';
import type { MethodLayerReport, MethodReport } from './types.js';

/**
 * Parameter accounting shared by the methods: every low-rank layer (Tucker/matrix layers and the
 * two-stage layers TRP deploys) is compared with the same layer held full; full Conv2d/Linear
 * layers count as they are. `extra` lets a method report layers that are stored full during
 * training but would be deployed factorised (TRP's current ranks before finalize).
 */
export function reportOf(model: Module, extra: MethodLayerReport[] = [], extraIsConv: (name: string) => boolean = () => false): MethodReport {
  const layers: MethodLayerReport[] = [...extra];
  const replaced = new Set(extra.map((l) => l.name));
  let networkParams = 0;
  let fullNetworkParams = 0;
  let convParams = 0;
  let fullConvParams = 0;
  for (const [name, m] of model.namedModules()) {
    const own = m
      .namedParameters()
      .filter(([k]) => !k.includes('.'))
      .reduce((n, [, p]) => n + p.size, 0);
    if (m instanceof TuckerLayer) {
      const params = m.paramCount();
      const full = m.fullParamCount();
      layers.push({ name, ranks: m instanceof MatrixConv2d || m.fullShape.length === 2 ? [m.ranks[0], m.ranks[1]] : m.ranks, params, fullParams: full });
      networkParams += params;
      fullNetworkParams += full;
      if (m instanceof TuckerConv2d || m instanceof MatrixConv2d) {
        convParams += params;
        fullConvParams += full;
      }
      continue;
    }
    if (m instanceof TwoStageLayer) {
      const params = m.paramCount();
      const full = m.fullParamCount();
      layers.push({ name, ranks: [m.rank], params, fullParams: full });
      networkParams += params;
      fullNetworkParams += full;
      if (m.isConv) {
        convParams += params;
        fullConvParams += full;
      }
      continue;
    }
    const isConv = m instanceof Conv2d;
    if (replaced.has(name)) {
      const r = extra.find((l) => l.name === name) as MethodLayerReport;
      networkParams += r.params;
      fullNetworkParams += r.fullParams;
      if (isConv || extraIsConv(name)) {
        convParams += r.params;
        fullConvParams += r.fullParams;
      }
      continue;
    }
    networkParams += own;
    fullNetworkParams += own;
    if (isConv) {
      convParams += own;
      fullConvParams += own;
    }
  }
  const params = layers.reduce((n, l) => n + l.params, 0);
  const fullParams = layers.reduce((n, l) => n + l.fullParams, 0);
  return { layers, params, fullParams, networkParams, fullNetworkParams, convParams, fullConvParams };
}
