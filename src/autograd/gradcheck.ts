import { Generator } from '../tensor/random.js';
import { shapeStr } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { noGrad } from './grad-mode.js';

export interface GradcheckOptions {
  /** Central-difference step. */
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Seed of the random projection of non-scalar outputs. */
  seed?: number;
}

export interface GradcheckResult {
  maxAbsError: number;
  /** Input index, flat element index, analytic and numeric value of the worst entry. */
  worst: { input: number; index: number; analytic: number; numeric: number } | null;
}

/**
 * Compares the reverse-mode gradient of fn against central differences in float64. A
 * non-scalar output is projected on a fixed random vector v, so the check covers the vjp of
 * every output element: L(x) = Σ v ⊙ fn(x). Throws, naming the input and element, on mismatch.
 */
export function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: readonly Tensor[], options: GradcheckOptions = {}): GradcheckResult {
  const eps = options.eps ?? 1e-6;
  const atol = options.atol ?? 1e-6;
  const rtol = options.rtol ?? 1e-5;
  inputs.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new Error(`gradcheck: inputs[${i}] must be a Tensor`);
    if (t.dtype !== 'float64') throw new Error(`gradcheck: inputs[${i}] must be float64 for finite differences, got ${t.dtype}`);
  });
  const leaves = inputs.map((t) => new Tensor(t.data.slice(), t.shape, t.requiresGrad));
  const probe = noGrad(() => fn(...leaves));
  const gen = new Generator(options.seed ?? 7);
  const v = new Float64Array(probe.size);
  for (let i = 0; i < v.length; i++) v[i] = gen.normal();
  const objective = (out: Tensor): number => {
    let s = 0;
    for (let i = 0; i < v.length; i++) s += v[i] * out.data[i];
    return s;
  };

  const out = fn(...leaves);
  if (out.size !== v.length) throw new Error(`gradcheck: fn's output changed size between calls (${v.length} vs ${out.size})`);
  if (!out.requiresGrad) throw new Error('gradcheck: no input requires grad, so there is nothing to check');
  out.backward(new Tensor(v.slice(), out.shape));

  let maxAbsError = 0;
  let worst: GradcheckResult['worst'] = null;
  noGrad(() => {
    leaves.forEach((leaf, li) => {
      if (!leaf.requiresGrad) return;
      const analytic = leaf.grad?.data ?? new Float64Array(leaf.size);
      for (let k = 0; k < leaf.size; k++) {
        const orig = leaf.data[k];
        leaf.data[k] = orig + eps;
        const fp = objective(fn(...leaves));
        leaf.data[k] = orig - eps;
        const fm = objective(fn(...leaves));
        leaf.data[k] = orig;
        const numeric = (fp - fm) / (2 * eps);
        const err = Math.abs(numeric - analytic[k]);
        if (err > maxAbsError || worst === null) {
          if (err >= maxAbsError) {
            maxAbsError = err;
            worst = { input: li, index: k, analytic: analytic[k], numeric };
          }
        }
        if (!(err <= atol + rtol * Math.abs(numeric))) {
          throw new Error(
            `gradcheck: gradient of input ${li} ${shapeStr(leaf.shape)} at flat index ${k}: analytic ${analytic[k]} vs numeric ${numeric} (|diff| ${err.toExponential(3)} > atol ${atol} + rtol ${rtol}·|numeric|)`,
          );
        }
      }
    });
  });
  return { maxAbsError, worst };
}
