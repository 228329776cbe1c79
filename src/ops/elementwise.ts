import { record } from '../autograd/record.js';
import type { Tensor } from '../tensor/tensor.js';
import { asTensor, checkTensor, rawBinary, rawUnary, sumToShape, type TensorLike } from './util.js';

/**
 * Elementwise arithmetic and activations with NumPy broadcasting. Each forward sits beside its
 * vjp; the vjps run under noGrad, so they are written with the same public ops.
 */

function operands(a: TensorLike, b: TensorLike, op: string): [Tensor, Tensor] {
  if (typeof a === 'number' && typeof b === 'number') throw new Error(`${op}: at least one operand must be a Tensor`);
  const ta = typeof a === 'number' ? asTensor(a, b as Tensor, op, 'a') : checkTensor(a, op, 'a');
  const tb = typeof b === 'number' ? asTensor(b, ta, op, 'b') : checkTensor(b, op, 'b');
  return [ta, tb];
}

export function add(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b, 'add');
  const out = rawBinary('add', x, y, 'add');
  return record(out, 'add', [x, y], (g) => [sumToShape(g, x.shape), sumToShape(g, y.shape)]);
}

export function sub(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b, 'sub');
  const out = rawBinary('sub', x, y, 'sub');
  return record(out, 'sub', [x, y], (g) => [sumToShape(g, x.shape), y.requiresGrad ? sumToShape(neg(g), y.shape) : null]);
}

export function mul(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b, 'mul');
  const out = rawBinary('mul', x, y, 'mul');
  return record(out, 'mul', [x, y], (g) => [x.requiresGrad ? sumToShape(mul(g, y), x.shape) : null, y.requiresGrad ? sumToShape(mul(g, x), y.shape) : null]);
}

export function div(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b, 'div');
  const out = rawBinary('div', x, y, 'div');
  return record(out, 'div', [x, y], (g) => [
    x.requiresGrad ? sumToShape(div(g, y), x.shape) : null,
    y.requiresGrad ? sumToShape(neg(div(mul(g, out), y)), y.shape) : null,
  ]);
}

/** a ** b. The gradient for b uses log(a): defined for a > 0. */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b, 'pow');
  const out = rawBinary('pow', x, y, 'pow');
  return record(out, 'pow', [x, y], (g) => [
    x.requiresGrad ? sumToShape(mul(g, mul(y, rawBinary('pow', x, sub(y, 1), 'pow'))), x.shape) : null,
    y.requiresGrad ? sumToShape(mul(g, mul(out, log(x))), y.shape) : null,
  ]);
}

/** Elementwise maximum; at ties the gradient goes to a. */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b, 'maximum');
  const out = rawBinary('max', x, y, 'maximum');
  return record(out, 'maximum', [x, y], (g) => {
    const mask = rawBinary('ge', x, y, 'maximum');
    return [x.requiresGrad ? sumToShape(mul(g, mask), x.shape) : null, y.requiresGrad ? sumToShape(mul(g, sub(1, mask)), y.shape) : null];
  });
}

/** Elementwise minimum; at ties the gradient goes to a. */
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b, 'minimum');
  const out = rawBinary('min', x, y, 'minimum');
  return record(out, 'minimum', [x, y], (g) => {
    const mask = rawBinary('le', x, y, 'minimum');
    return [x.requiresGrad ? sumToShape(mul(g, mask), x.shape) : null, y.requiresGrad ? sumToShape(mul(g, sub(1, mask)), y.shape) : null];
  });
}

export function neg(x: Tensor): Tensor {
  checkTensor(x, 'neg', 'x');
  return record(rawUnary('neg', x), 'neg', [x], (g) => [neg(g)]);
}

export function exp(x: Tensor): Tensor {
  checkTensor(x, 'exp', 'x');
  const out = rawUnary('exp', x);
  return record(out, 'exp', [x], (g) => [mul(g, out)]);
}

export function log(x: Tensor): Tensor {
  checkTensor(x, 'log', 'x');
  return record(rawUnary('log', x), 'log', [x], (g) => [div(g, x)]);
}

export function sqrt(x: Tensor): Tensor {
  checkTensor(x, 'sqrt', 'x');
  const out = rawUnary('sqrt', x);
  return record(out, 'sqrt', [x], (g) => [div(mul(g, 0.5), out)]);
}

export function square(x: Tensor): Tensor {
  checkTensor(x, 'square', 'x');
  return record(rawUnary('square', x), 'square', [x], (g) => [mul(g, mul(x, 2))]);
}

/** |x|; the gradient at 0 is 0 (the subgradient sign(0)). */
export function abs(x: Tensor): Tensor {
  checkTensor(x, 'abs', 'x');
  return record(rawUnary('abs', x), 'abs', [x], (g) => [mul(g, rawUnary('sign', x))]);
}

export function relu(x: Tensor): Tensor {
  checkTensor(x, 'relu', 'x');
  return record(rawUnary('relu', x), 'relu', [x], (g) => [mul(g, rawUnary('step', x))]);
}

/** max(x, 0) + slope·min(x, 0). */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  checkTensor(x, 'leakyRelu', 'x');
  if (!Number.isFinite(negativeSlope)) throw new Error(`leakyRelu: negativeSlope must be finite, got ${negativeSlope}`);
  const pos = rawUnary('relu', x);
  const out = rawBinary(
    'add',
    pos,
    rawBinary('mul', rawBinary('sub', x, pos, 'leakyRelu'), asTensor(negativeSlope, x, 'leakyRelu', 'negativeSlope'), 'leakyRelu'),
    'leakyRelu',
  );
  return record(out, 'leakyRelu', [x], (g) => {
    const step = rawUnary('step', x);
    // slope + (1 − slope)·step
    return [mul(g, add(mul(step, 1 - negativeSlope), negativeSlope))];
  });
}

export function sigmoid(x: Tensor): Tensor {
  checkTensor(x, 'sigmoid', 'x');
  const out = rawUnary('sigmoid', x);
  return record(out, 'sigmoid', [x], (g) => [mul(g, mul(out, sub(1, out)))]);
}

export function tanh(x: Tensor): Tensor {
  checkTensor(x, 'tanh', 'x');
  const out = rawUnary('tanh', x);
  return record(out, 'tanh', [x], (g) => [mul(g, sub(1, mul(out, out)))]);
}

/** The exact gelu x·Φ(x) (PyTorch's default, not the tanh approximation). */
export function gelu(x: Tensor): Tensor {
  checkTensor(x, 'gelu', 'x');
  return record(rawUnary('gelu', x), 'gelu', [x], (g) => [mul(g, rawUnary('geluGrad', x))]);
}

/** Clamps into [min, max] (either bound may be omitted); the gradient passes where min ≤ x ≤ max. */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  checkTensor(x, 'clamp', 'x');
  const lo = min ?? null;
  const hi = max ?? null;
  if (lo === null && hi === null) throw new Error('clamp: at least one of min and max must be given');
  if (lo !== null && hi !== null && lo > hi) throw new Error(`clamp: min must be ≤ max, got min=${lo}, max=${hi}`);
  let out = x;
  if (lo !== null) out = rawBinary('max', out, asTensor(lo, x, 'clamp', 'min'), 'clamp');
  if (hi !== null) out = rawBinary('min', out, asTensor(hi, x, 'clamp', 'max'), 'clamp');
  if (out === x) out = rawUnary('neg', rawUnary('neg', x));
  return record(out, 'clamp', [x], (g) => {
    let mask: Tensor | null = null;
    if (lo !== null) mask = rawBinary('ge', x, asTensor(lo, x, 'clamp', 'min'), 'clamp');
    if (hi !== null) {
      const m = rawBinary('le', x, asTensor(hi, x, 'clamp', 'max'), 'clamp');
      mask = mask === null ? m : rawBinary('mul', mask, m, 'clamp');
    }
    return [mul(g, mask as Tensor)];
  });
}
