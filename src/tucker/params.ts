/** Parameter counts of Tucker and Tucker-2 forms. */
import { shapeStr } from '../tensor/shape.js';
import { checkModes, checkRanks } from './checks.js';

function checkShapeArg(shape: unknown, op: string): number[] {
  if (!Array.isArray(shape) || shape.length < 1 || shape.some((s) => typeof s !== 'number' || !Number.isInteger(s) || s < 1)) {
    throw new Error(`${op}: shape must be a non-empty array of positive integers, got ${Array.isArray(shape) ? shapeStr(shape) : String(shape)}`);
  }
  return shape as number[];
}

/**
 * Parameters of a Tucker form of a tensor of `shape`: the core Π_i r_i plus Σ_{i∈modes} n_i·r_i
 * (factors of the factorised modes only; an unfactorised mode keeps r_i = n_i in the core and
 * stores no factor). `ranks` has one entry per mode (null or n_i for an unfactorised mode).
 * Tucker-2 of a conv kernel [out, in, kh, kw]: `tuckerParams(shape, [r1, r2, null, null], [0, 1])`.
 */
export function tuckerParams(shape: readonly number[], ranks: readonly (number | null)[], modes?: readonly number[]): number {
  const s = checkShapeArg(shape, 'tuckerParams');
  const ms = checkModes(modes, s.length, 'tuckerParams');
  const r = checkRanks(ranks, s, ms, 'tuckerParams');
  let core = 1;
  for (const x of r) core *= x;
  let fac = 0;
  for (const i of ms) fac += s[i] * r[i];
  return core + fac;
}

/**
 * Compression ratio full/Tucker = Π_i n_i / tuckerParams(shape, ranks, modes): 10 means ten times
 * fewer parameters. (The papers' "c.r." 1 − compressed/full is 1 − 1/compressionRatio.)
 */
export function compressionRatio(shape: readonly number[], ranks: readonly (number | null)[], modes?: readonly number[]): number {
  const s = checkShapeArg(shape, 'compressionRatio');
  let full = 1;
  for (const x of s) full *= x;
  return full / tuckerParams(s, ranks, modes);
}
