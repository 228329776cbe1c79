/**
 * Loading a saved state into a model whose low-rank layers may be at other ranks than the saved
 * ones: each such layer is checked against the saved core and factors, then resized by its
 * prepareLoad hook, and only then is anything written.
 */
import type { Module, StateDict } from '../nn/module.js';
import { sameShape, shapeStr } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { TuckerLayer } from './tucker-layer.js';

/**
 * Loads a state dict into the model's tensors in place. A module whose tensors have other shapes
 * than the saved ones (a low-rank layer at other ranks) is resized first by its prepareLoad hook;
 * the others keep their Parameter objects, so optimizers that hold them stay valid. Everything is
 * checked before anything is written: a mismatch changes nothing.
 */
export function loadModelState(model: Module, sd: StateDict, where = 'loadModelState'): void {
  const targets = () => new Map<string, Tensor>([...model.namedParameters(), ...model.namedBuffers()]);
  const before = targets();
  const resized = new Set<string>();
  for (const [name, m] of model.namedModules()) {
    if (!(m instanceof TuckerLayer)) continue;
    const prefix = name ? `${name}.` : '';
    const mismatch = [...before].some(([k, t]) => k.startsWith(prefix) && sd[k] !== undefined && !sameShape(sd[k].shape, t.shape));
    const coreKey = `${prefix}core`;
    if (mismatch && sd[coreKey]) {
      const stored = m.factors.map((f) => f !== null);
      const problems: string[] = [];
      if (sd[coreKey].ndim !== m.fullShape.length) problems.push(`'${coreKey}': expected ${m.fullShape.length} modes, got ${shapeStr(sd[coreKey].shape)}`);
      stored.forEach((s, i) => {
        const f = sd[`${prefix}factors.${i}`];
        if (s && !f) problems.push(`missing key '${prefix}factors.${i}'`);
        if (!s && f) problems.push(`unexpected key '${prefix}factors.${i}' (mode ${i} of '${name}' is kept full)`);
        if (f && (f.ndim !== 2 || f.shape[0] !== m.fullShape[i] || f.shape[1] !== sd[coreKey].shape[i]))
          problems.push(`'${prefix}factors.${i}': expected [${m.fullShape[i]}, ${sd[coreKey].shape[i]}], got ${shapeStr(f.shape)}`);
        if (!s && sd[coreKey].shape[i] !== m.fullShape[i])
          problems.push(`'${coreKey}': mode ${i} is kept full and must have size ${m.fullShape[i]}, got ${shapeStr(sd[coreKey].shape)}`);
      });
      if (problems.length > 0) throw new Error(`${where}: ${problems.join('; ')}`);
      resized.add(name);
    }
  }
  // Check the whole state against the shapes it will have after resizing, before resizing anything.
  const problems: string[] = [];
  for (const [k, t] of before) {
    const src = sd[k];
    if (!src) {
      problems.push(`missing key '${k}'`);
      continue;
    }
    const layer = [...resized].find((n) => k.startsWith(n ? `${n}.` : ''));
    if (layer === undefined && !sameShape(src.shape, t.shape)) problems.push(`'${k}': expected shape ${shapeStr(t.shape)}, got ${shapeStr(src.shape)}`);
    if (src.dtype !== t.dtype) problems.push(`'${k}': expected dtype ${t.dtype}, got ${src.dtype}`);
  }
  for (const k of Object.keys(sd)) if (!before.has(k)) problems.push(`unexpected key '${k}'`);
  if (problems.length > 0) {
    const shown = problems.slice(0, 8).join('; ');
    throw new Error(`${where}: the saved state does not fit the model: ${shown}${problems.length > 8 ? `; and ${problems.length - 8} more` : ''}`);
  }
  for (const [name, m] of model.namedModules()) if (resized.has(name)) m.prepareLoad(sd, name);
  for (const [k, t] of targets()) t.data.set(sd[k].data);
}
