import { noGrad } from '../autograd/grad-mode.js';
import { Module, type StateDict } from '../nn/module.js';
import { Parameter } from '../nn/parameter.js';
import { allocate, type DType } from '../tensor/dtype.js';
import { shapeStr } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { differentiableModeProduct } from './mode-product.js';

/**
 * A weight held in Tucker form W = C ×_0 U_0 ×_1 U_1 … over the modes of `fullShape`. A mode
 * whose factor is null is kept full (identity factor, not stored): the core has size n_i there.
 * Subclasses say how the factors enter the forward pass (a Tucker conv, a low-rank linear).
 * The integrator swaps core and factors for tensors of other ranks between steps.
 */
export abstract class TuckerLayer extends Module {
  core: Parameter;
  factors: (Parameter | null)[];
  bias: Parameter | null;
  /** Modes whose rank the integrator may change (a subset of the stored modes). */
  adaptModes: number[];
  /**
   * When set (by the integrator, for one forward/backward), forward runs the full kernel held in
   * this leaf tensor instead of the factorised form, so that its `.grad` is ∇_W L. The integrator
   * does this only where a core unfolding is too ill-conditioned to recover the K-step directions
   * from the factor gradients (docs/integrator.md, "The K-step directions").
   */
  gradientProbe: Tensor | null = null;

  /**
   * How forward evaluates the layer: 'factored' (the small products through the factors), 'dense'
   * (the kernel C ×_i U_i formed on the tape, then one full-size product) or 'auto' (default):
   * whichever costs fewer multiply-adds for the input at hand (factoredCostRatio). Both are the
   * same function of core and factors, differentiated by autograd, so the gradients agree up to
   * rounding; 'dense' wins where the ranks are close to the mode sizes (docs/integrator.md, "Cost").
   */
  forwardRoute: 'auto' | 'factored' | 'dense' = 'auto';

  constructor(
    readonly fullShape: readonly number[],
    core: Tensor,
    factors: (Tensor | null)[],
    bias: Tensor | null,
    adaptModes: readonly number[],
    readonly kind: string,
  ) {
    super();
    if (factors.length !== fullShape.length) throw new Error(`${kind}: need one factor (or null) per mode of ${shapeStr(fullShape)}, got ${factors.length}`);
    this.core = new Parameter(core);
    this.factors = factors.map((f) => (f ? new Parameter(f) : null));
    this.bias = bias ? new Parameter(bias) : null;
    this.checkForm(this.core, this.factors);
    for (const m of adaptModes) {
      if (!this.factors[m]) throw new Error(`${kind}: adapted mode ${m} must have a stored factor (mode size ${fullShape[m]})`);
    }
    this.adaptModes = [...adaptModes];
  }

  get dtype(): DType {
    return this.core.dtype;
  }

  /** Current ranks (n_i for modes kept full). */
  get ranks(): number[] {
    return this.core.shape.slice();
  }

  private checkForm(core: Tensor, factors: readonly (Tensor | null)[]): void {
    if (core.ndim !== this.fullShape.length) throw new Error(`${this.kind}: core must have ${this.fullShape.length} modes, got ${shapeStr(core.shape)}`);
    factors.forEach((f, i) => {
      if (f === null) {
        if (core.shape[i] !== this.fullShape[i])
          throw new Error(`${this.kind}: mode ${i} has no factor, so the core must have size ${this.fullShape[i]} there, got ${shapeStr(core.shape)}`);
        return;
      }
      if (f.ndim !== 2 || f.shape[0] !== this.fullShape[i] || f.shape[1] !== core.shape[i]) {
        throw new Error(`${this.kind}: factor ${i} must be [${this.fullShape[i]}, ${core.shape[i]}], got ${shapeStr(f.shape)}`);
      }
      if (f.dtype !== core.dtype) throw new Error(`${this.kind}: factor ${i} dtype ${f.dtype} differs from the core's ${core.dtype}`);
    });
  }

  /** Replaces core and factors (new parameters, possibly of new ranks); the modes kept full stay so. */
  setTucker(core: Tensor, factors: readonly (Tensor | null)[]): void {
    this.checkForm(core, factors);
    factors.forEach((f, i) => {
      if ((f === null) !== (this.factors[i] === null)) throw new Error(`${this.kind}: setTucker cannot change which modes are stored (mode ${i})`);
    });
    // The replaced parameters' gradients are dead: free them now (on the GPU they are device memory).
    this.core.zeroGrad();
    for (const f of this.factors) f?.zeroGrad();
    this.core = new Parameter(core);
    this.factors = factors.map((f) => (f ? new Parameter(f) : null));
  }

  protected override ownParameters(): [string, Parameter][] {
    const out: [string, Parameter][] = [['core', this.core]];
    this.factors.forEach((f, i) => f && out.push([`factors.${i}`, f]));
    if (this.bias) out.push(['bias', this.bias]);
    return out;
  }

  /** Resizes core and factors to the shapes of a saved state before loading it (ranks may differ). */
  override prepareLoad(sd: StateDict, prefix: string): void {
    const key = (k: string) => (prefix ? `${prefix}.${k}` : k);
    const core = sd[key('core')];
    if (!core) return;
    const factors = this.factors.map((f, i) => (f ? (sd[key(`factors.${i}`)] ?? f) : null));
    this.setTucker(
      new Tensor(allocate(core.dtype, core.size), core.shape),
      factors.map((f) => (f ? new Tensor(allocate(f.dtype, f.size), f.shape) : null)),
    );
  }

  /** The kernel in Tucker form, differentiable (used by tests and the full-kernel paths). */
  reconstruct(): Tensor {
    let w: Tensor = this.core;
    this.factors.forEach((f, i) => {
      if (f) w = differentiableModeProduct(w, f, i);
    });
    return w;
  }

  /** The full kernel as a plain tensor (no tape). */
  fullWeight(): Tensor {
    return noGrad(() => this.reconstruct());
  }

  /** Stored parameters: core + factors + bias. */
  paramCount(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  /** Parameters of the same layer held full. */
  abstract fullParamCount(): number;

  /** The layer's forward with a full kernel w of shape fullShape (the gradient probe's path). */
  protected abstract forwardFull(x: Tensor, w: Tensor): Tensor;

  /**
   * Runs the factorised forward or, where it costs more (see forwardRoute), the dense kernel; the
   * full-kernel forward of the gradient probe while one is set.
   */
  forward(x: Tensor): Tensor {
    if (this.gradientProbe) return this.forwardFull(x, this.gradientProbe);
    const route = this.forwardRoute;
    if (route !== 'auto' && route !== 'factored' && route !== 'dense') {
      throw new Error(`${this.kind}: forwardRoute must be 'auto', 'factored' or 'dense', got ${String(route)}`);
    }
    const dense = route === 'dense' || (route === 'auto' && this.factoredCostRatio(x) > 1);
    return dense ? this.forwardFull(x, this.reconstruct()) : this.forwardFactored(x);
  }

  /**
   * Multiply-adds of forwardFactored over those of the dense route for input x: the dense product
   * plus the reconstruction of the kernel (reconstructMacs), which a small batch does not amortise
   * (a 256-channel 3×3 conv at full rank: a quarter of the product at 8 images of 16 × 16).
   */
  abstract factoredCostRatio(x: Tensor): number;

  /** Multiply-adds of reconstruct(): C ×_0 U_0 ×_1 U_1 … in that order over the stored modes. */
  reconstructMacs(): number {
    const shape = this.ranks;
    let macs = 0;
    this.factors.forEach((f, i) => {
      if (!f) return;
      const rest = shape.reduce((p, n, j) => (j === i ? p : p * n), 1);
      macs += this.fullShape[i] * shape[i] * rest;
      shape[i] = this.fullShape[i];
    });
    return macs;
  }

  /** The forward through the factors (the cheap path that training normally takes). */
  protected abstract forwardFactored(x: Tensor): Tensor;
}
