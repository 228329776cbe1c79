/**
 * The layer kinds of lowrank/ (describe, build, elements; see nn/describe.ts). Imported for its
 * registrations by whatever reads or writes checkpoints holding low-rank layers.
 */
import { registerLayerKind, dimsOf, isDim, product } from '../nn/describe.js';
import { geometryOf, type Geometry } from '../nn/layer-kinds.js';
import { allocate, type DType } from '../tensor/dtype.js';
import { Tensor } from '../tensor/tensor.js';
import { LowRankLinear } from './low-rank-linear.js';
import { MatrixConv2d } from './matrix-conv2d.js';
import { TwoStageConv2d, TwoStageLinear } from './methods/two-stage.js';
import { TuckerConv2d } from './tucker-conv2d.js';
import type { TuckerLayer } from './tucker-layer.js';

const zeros = (dtype: DType, shape: number[]) => new Tensor(allocate(dtype, product(shape)), shape);

/** What every Tucker layer's description holds: its ranks, which modes have a stored factor, which adapt, a bias. */
type TuckerFields = { ranks: number[]; stored: boolean[]; adaptModes: number[]; bias: boolean };
const tuckerFields = (l: TuckerLayer): TuckerFields => ({
  ranks: l.ranks,
  stored: l.factors.map((f) => f !== null),
  adaptModes: [...l.adaptModes],
  bias: l.bias !== null,
});

/** Placeholder core, factors (rank 1 on stored modes) and bias of a Tucker layer of full shape `full`. */
function tuckerParts(dtype: DType, full: number[], stored: boolean[], bias: number | null, where: string) {
  if (!Array.isArray(stored) || stored.length !== full.length) throw new Error(`${where}: 'stored' must list ${full.length} booleans`);
  const core = zeros(
    dtype,
    full.map((n, i) => (stored[i] ? 1 : n)),
  );
  const factors = full.map((n, i) => (stored[i] ? zeros(dtype, [n, 1]) : null));
  return { core, factors, bias: bias === null ? null : zeros(dtype, [bias]) };
}

/** Weights tuckerParts allocates (NaN when `stored` does not fit `full`). */
function tuckerElements(full: number[], stored: unknown, bias: boolean): number {
  if (!Array.isArray(stored) || stored.length !== full.length) return Number.NaN;
  return product(full.map((n, i) => (stored[i] ? 1 : n))) + full.reduce((a, n, i) => a + (stored[i] ? n : 0), 0) + (bias ? full[0] : 0);
}

type TuckerConvD = { kind: 'TuckerConv2d'; fullShape: number[] } & TuckerFields & Geometry;
registerLayerKind<TuckerConv2d, TuckerConvD>({
  kind: 'TuckerConv2d',
  type: TuckerConv2d,
  describe: (m) => ({ fullShape: [...m.fullShape], ...tuckerFields(m), stride: m.stride, padding: m.padding, dilation: m.dilation }),
  build: (d, dtype, where) => {
    const p = tuckerParts(dtype, d.fullShape, d.stored, d.bias ? d.fullShape[0] : null, where);
    return new TuckerConv2d(d.fullShape, p.core, p.factors, p.bias, d.adaptModes, geometryOf(d));
  },
  elements: (d) => tuckerElements(dimsOf(d.fullShape), d.stored, d.bias === true),
});

type MatrixConvD = { kind: 'MatrixConv2d'; kernelShape: number[] } & TuckerFields & Geometry;
registerLayerKind<MatrixConv2d, MatrixConvD>({
  kind: 'MatrixConv2d',
  type: MatrixConv2d,
  describe: (m) => ({ kernelShape: [...m.kernelShape], ...tuckerFields(m), stride: m.stride ?? 1, padding: m.padding ?? 0, dilation: m.dilation ?? 1 }),
  build: (d, dtype, where) => {
    const k = d.kernelShape;
    const p = tuckerParts(dtype, [k[0], k[1] * k[2] * k[3]], d.stored, d.bias ? k[0] : null, where);
    return new MatrixConv2d(k, p.core, p.factors, p.bias, d.adaptModes, geometryOf(d));
  },
  elements: (d) => {
    const k = dimsOf(d.kernelShape);
    return k.length === 4 ? tuckerElements([k[0], k[1] * k[2] * k[3]], d.stored, d.bias === true) : Number.NaN;
  },
});

type LowRankLinearD = { kind: 'LowRankLinear'; fullShape: number[] } & TuckerFields;
registerLayerKind<LowRankLinear, LowRankLinearD>({
  kind: 'LowRankLinear',
  type: LowRankLinear,
  describe: (m) => ({ fullShape: [...m.fullShape], ...tuckerFields(m) }),
  build: (d, dtype, where) => {
    const p = tuckerParts(dtype, d.fullShape, d.stored, d.bias ? d.fullShape[0] : null, where);
    return new LowRankLinear(d.fullShape, p.core, p.factors, p.bias, d.adaptModes);
  },
  elements: (d) => tuckerElements(dimsOf(d.fullShape), d.stored, d.bias === true),
});

type TwoStageConvD = { kind: 'TwoStageConv2d'; fullShape: number[]; rank: number; reshaping: 'channel' | 'spatial'; bias: boolean } & Geometry;
registerLayerKind<TwoStageConv2d, TwoStageConvD>({
  kind: 'TwoStageConv2d',
  type: TwoStageConv2d,
  describe: (m) => {
    const g: Geometry = { stride: m.stride, padding: m.padding, dilation: m.dilation };
    return {
      fullShape: [...m.fullShape],
      rank: m.rank,
      reshaping: m.reshaping,
      bias: m.bias !== null,
      stride: g.stride,
      padding: g.padding,
      dilation: g.dilation,
    };
  },
  build: (d, dtype) => {
    const [o, i, kh, kw] = d.fullShape;
    const channel = d.reshaping === 'channel';
    return new TwoStageConv2d(
      d.fullShape,
      zeros(dtype, [d.rank, i, kh, channel ? kw : 1]),
      zeros(dtype, [o, d.rank, 1, channel ? 1 : kw]),
      d.bias ? zeros(dtype, [o]) : null,
      d.reshaping,
      geometryOf(d),
    );
  },
  elements: (d) => {
    const f = dimsOf(d.fullShape);
    if (f.length !== 4 || !isDim(d.rank)) return Number.NaN;
    return d.rank * (f[1] * f[2] * f[3] + f[0] * Math.max(f[2], f[3])) + (d.bias ? f[0] : 0);
  },
});

type TwoStageLinearD = { kind: 'TwoStageLinear'; fullShape: number[]; rank: number; bias: boolean };
registerLayerKind<TwoStageLinear, TwoStageLinearD>({
  kind: 'TwoStageLinear',
  type: TwoStageLinear,
  describe: (m) => ({ fullShape: [...m.fullShape], rank: m.rank, bias: m.bias !== null }),
  build: (d, dtype) =>
    new TwoStageLinear(
      d.fullShape,
      zeros(dtype, [d.rank, d.fullShape[1]]),
      zeros(dtype, [d.fullShape[0], d.rank]),
      d.bias ? zeros(dtype, [d.fullShape[0]]) : null,
    ),
  elements: (d) => {
    const f = dimsOf(d.fullShape);
    return f.length === 2 && isDim(d.rank) ? d.rank * (f[0] + f[1]) + (d.bias ? f[0] : 0) : Number.NaN;
  },
});
