import { TdlrtMethod, type TdlrtOptions } from './tdlrt.js';

/**
 * Matrix DLRT (docs/design.md §5.1.3): the same rank-adaptive integrator with two modes, on
 * each conv kernel lowered to a matrix out × in·kh·kw (MatrixConv2d) and on Linear layers;
 * one rank per layer, chosen by the relative tolerance tau.
 */
export class DlrtMatrixMethod extends TdlrtMethod {
  override readonly name: string = 'dlrt-matrix';
  constructor(options: TdlrtOptions) {
    super({ ...options, factorize: { rankRatio: 0.2, init: 'random', ...options?.factorize, conv: 'matrix' } });
  }
}
