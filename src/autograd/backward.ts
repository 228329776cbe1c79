import type { Tensor } from '../tensor/tensor.js';
import { sameShape, shapeStr } from '../tensor/shape.js';
import { isAnomalyEnabled, noGrad } from './grad-mode.js';
import { checkFinite } from './record.js';
import { accumulateInPlace, addGrads, copyGrad, onesLike } from './grad-utils.js';

/**
 * Tensors whose graph node a backward freed. Such a tensor looks like a leaf afterwards, so without
 * this record a second backward through it was a silent no-op; PyTorch raises there, and so do we.
 */
const freed = new WeakSet<Tensor>();

export interface BackwardOptions {
  /** Keep the graph so backward can run again through it (default false: the graph is freed). */
  retainGraph?: boolean;
}

/**
 * Reverse-mode sweep from `root`: visits the recorded ops in reverse topological order, sums
 * the gradients reaching each tensor, and accumulates them into the .grad of leaves that
 * require a gradient.
 */
export function backward(root: Tensor, gradient?: Tensor, options: BackwardOptions = {}): void {
  if (!root.requiresGrad) throw new Error(`backward: tensor ${shapeStr(root.shape)} does not require grad and has no history`);
  let seed: Tensor;
  if (gradient === undefined) {
    if (root.size !== 1) {
      throw new Error(`backward: gradient must be given for a non-scalar output, got shape ${shapeStr(root.shape)} and no gradient`);
    }
    seed = onesLike(root);
  } else {
    if (!sameShape(gradient.shape, root.shape)) {
      throw new Error(`backward: gradient shape must equal the output's ${shapeStr(root.shape)}, got ${shapeStr(gradient.shape)}`);
    }
    if (gradient.dtype !== root.dtype) throw new Error(`backward: gradient dtype must be ${root.dtype}, got ${gradient.dtype}`);
    seed = gradient;
  }

  const order = topoOrder(root);
  const grads = new Map<Tensor, Tensor>();
  grads.set(root, seed);
  noGrad(() => {
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      const g = grads.get(t);
      if (g === undefined) continue;
      const node = t.node;
      if (node === null) {
        accumulateLeaf(t, g);
        continue;
      }
      grads.delete(t);
      if (t.retainsGrad) accumulateLeaf(t, g);
      const inputGrads = node.vjp(g);
      for (let k = 0; k < node.inputs.length; k++) {
        const input = node.inputs[k];
        const gi = inputGrads[k];
        if (gi === null || gi === undefined || !input.requiresGrad) continue;
        if (!sameShape(gi.shape, input.shape)) {
          throw new Error(`backward: vjp of ${node.op} returned a gradient of shape ${shapeStr(gi.shape)} for input ${k} of shape ${shapeStr(input.shape)}`);
        }
        if (isAnomalyEnabled()) checkFinite(gi, `${node.op} backward`, `gradient for input ${k}`);
        const prev = grads.get(input);
        grads.set(input, prev === undefined ? gi : addGrads(prev, gi));
      }
      if (!options.retainGraph) {
        t.node = null;
        freed.add(t);
      }
    }
  });
}

function accumulateLeaf(t: Tensor, g: Tensor): void {
  if (!t.requiresGrad) return;
  if (t.grad === null) {
    t.grad = copyGrad(g);
    t.grad.storage.keep();
  } else accumulateInPlace(t.grad, g);
}

/** Depth-first post-order over the recorded graph, iterative so deep graphs cannot overflow the stack. */
function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    if (t.node === null && freed.has(t)) {
      throw new Error(
        `backward: trying to backward through the graph a second time (a tensor of shape ${shapeStr(t.shape)} was computed by a graph that an earlier backward freed); ` +
          'pass { retainGraph: true } to the earlier backward to keep it',
      );
    }
    const inputs = t.node?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const next = inputs[i];
      if (!visited.has(next) && next.requiresGrad) {
        visited.add(next);
        stack.push([next, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order;
}
