import { shapeStr, sameShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { Parameter } from './parameter.js';

export type StateDict = Record<string, Tensor>;

/**
 * Base of every layer and model (PyTorch's nn.Module). Parameters and sub-modules are found
 * by walking the instance's own fields, so a layer only assigns them; buffers (state saved
 * but not trained, like running means) are registered by name.
 */
export abstract class Module {
  training = true;
  private readonly buffers = new Map<string, Tensor>();

  abstract forward(x: Tensor): Tensor;

  /** Own sub-modules, in field order; arrays of modules count too (Sequential). */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [k, v] of Object.entries(this)) {
      if (v instanceof Module) out.push([k, v]);
      else if (Array.isArray(v)) v.forEach((m, i) => m instanceof Module && out.push([`${k === 'layers' ? '' : `${k}.`}${i}`, m]));
    }
    return out;
  }

  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and all below it, depth first, with dotted names ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [k, m] of this.namedChildren()) out.push(...m.namedModules(prefix ? `${prefix}.${k}` : k));
    return out;
  }

  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** Own parameters (direct fields), before those of children. */
  protected ownParameters(): [string, Parameter][] {
    return Object.entries(this).filter((e): e is [string, Parameter] => e[1] instanceof Parameter);
  }

  namedParameters(prefix = ''): [string, Parameter][] {
    const out: [string, Parameter][] = this.ownParameters().map(([k, p]) => [prefix ? `${prefix}.${k}` : k, p]);
    for (const [k, m] of this.namedChildren()) out.push(...m.namedParameters(prefix ? `${prefix}.${k}` : k));
    return out;
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  registerBuffer(name: string, t: Tensor): void {
    // A module's buffer (running statistics) outlives every scope: arena() must never recycle it.
    t.storage.pin();
    this.buffers.set(name, t);
  }

  getBuffer(name: string): Tensor {
    const b = this.buffers.get(name);
    if (!b) throw new Error(`Module: no buffer named '${name}'`);
    return b;
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [...this.buffers].map(([k, t]) => [prefix ? `${prefix}.${k}` : k, t]);
    for (const [k, m] of this.namedChildren()) out.push(...m.namedBuffers(prefix ? `${prefix}.${k}` : k));
    return out;
  }

  /** Sets training mode here and below (dropout, batch norm). */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /** Copies of every parameter and buffer by dotted name. */
  stateDict(): StateDict {
    const sd: StateDict = {};
    for (const [k, p] of this.namedParameters()) sd[k] = new Tensor(p.data.slice(), p.shape);
    for (const [k, b] of this.namedBuffers()) sd[k] = new Tensor(b.data.slice(), b.shape);
    return sd;
  }

  /**
   * Loads values by name into the existing tensors, checking every shape and dtype first so a
   * mismatch changes nothing. strict (default) also rejects missing and unexpected keys.
   */
  loadStateDict(sd: StateDict, options: { strict?: boolean } = {}): void {
    const strict = options.strict ?? true;
    for (const [name, m] of this.namedModules()) m.prepareLoad(sd, name);
    const targets = new Map<string, Tensor>([...this.namedParameters(), ...this.namedBuffers()]);
    const problems: string[] = [];
    for (const [k, t] of targets) {
      const src = sd[k];
      if (!src) {
        if (strict) problems.push(`missing key '${k}'`);
        continue;
      }
      if (!sameShape(src.shape, t.shape)) problems.push(`'${k}': expected shape ${shapeStr(t.shape)}, got ${shapeStr(src.shape)}`);
      else if (src.dtype !== t.dtype) problems.push(`'${k}': expected dtype ${t.dtype}, got ${src.dtype}`);
    }
    if (strict) for (const k of Object.keys(sd)) if (!targets.has(k)) problems.push(`unexpected key '${k}'`);
    if (problems.length > 0) throw new Error(`loadStateDict: ${problems.join('; ')}`);
    for (const [k, t] of targets) if (sd[k]) t.data.set(sd[k].data);
  }

  /**
   * Called before a state is loaded: a layer whose parameter shapes may legitimately differ
   * (the ranks of a low-rank layer) resizes them here to match the saved state.
   */
  prepareLoad(_sd: StateDict, _prefix: string): void {}

  /** Forward FLOPs for one sample given the input shape (without batch); layers with work override. */
  flops(_inputShape: readonly number[], _outputShape: readonly number[]): number {
    return 0;
  }
}
