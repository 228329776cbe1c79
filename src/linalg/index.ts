/**
 * linalg: exact float64 dense linear algebra on plain tensors (no autograd). Every function accepts
 * float32 or float64 tensors, computes in float64 and returns float64 tensors; non-finite input is
 * rejected. Buffer-level versions (qrRaw, svdRaw, eighRaw, householder) live in the module files
 * for numerical code that works on Float64Arrays directly.
 */
export { qr, type QROptions, type QRResult } from './qr.js';
export { svd, svdvals, truncationRank, type SvdMethod, type SvdOptions, type SvdResult } from './svd.js';
export { eigh, type EighResult } from './eigh.js';
export { solve, lstsq, orth, norm, type LstsqOptions, type LstsqResult, type OrthOptions } from './solve.js';
