/**
 * State trees in a safetensors file: JSON whose leaves may be Tensors or typed arrays. The leaves
 * are stored as tensors named `state.<path>` and referenced from the JSON ({$tensor}, {$array});
 * numbers JSON cannot hold (NaN, ±Infinity) are stored as strings ({$number}).
 */
import type { StateTree } from '../tensor/state-tree.js';
import { Tensor } from '../tensor/tensor.js';
import type { SafetensorsTensors } from './safetensors-codec.js';
import { fromTensor } from './safetensors-tensor.js';

const STATE_PREFIX = 'state.';

type EncodedLeaf = { $tensor: string } | { $array: string } | { $number: string };

/** The JSON of `tree`, with its tensor leaves added to `tensors` under state.<path>. */
export function encodeTree(tree: StateTree, path: string, tensors: SafetensorsTensors): unknown {
  if (tree === null || typeof tree === 'boolean' || typeof tree === 'string') return tree;
  if (typeof tree === 'number') return Number.isFinite(tree) ? tree : ({ $number: String(tree) } satisfies EncodedLeaf);
  const name = `${STATE_PREFIX}${path}`;
  if (tree instanceof Tensor) {
    tensors[name] = fromTensor(tree);
    return { $tensor: name } satisfies EncodedLeaf;
  }
  if (tree instanceof Float64Array || tree instanceof Float32Array || tree instanceof Int32Array) {
    const dtype = tree instanceof Float64Array ? 'F64' : tree instanceof Float32Array ? 'F32' : 'I32';
    tensors[name] = { dtype, shape: [tree.length], data: tree };
    return { $array: name } satisfies EncodedLeaf;
  }
  if (Array.isArray(tree)) return tree.map((v, i) => encodeTree(v, path ? `${path}.${i}` : String(i), tensors));
  if (typeof tree === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(tree)) {
      if (k.startsWith('$')) throw new Error(`checkpoint: state keys must not start with '$', got '${k}' at '${path}'`);
      if (v === undefined) continue;
      out[k] = encodeTree(v, path ? `${path}.${k}` : k, tensors);
    }
    return out;
  }
  throw new Error(`checkpoint: cannot store a ${typeof tree} in a state tree (at '${path}')`);
}

/** The tree back from encodeTree's JSON and the file's tensors; throws (naming `where`) on a dangling reference. */
export function decodeTree(raw: unknown, tensors: SafetensorsTensors, where: string): StateTree {
  if (raw === null || typeof raw === 'boolean' || typeof raw === 'string' || typeof raw === 'number') return raw;
  if (Array.isArray(raw)) return raw.map((v) => decodeTree(v, tensors, where));
  if (typeof raw === 'object') {
    const o = raw as Record<string, unknown>;
    const entry = (name: unknown) => {
      const e = typeof name === 'string' ? tensors[name] : undefined;
      if (!e) throw new Error(`${where}: the training state refers to tensor ${JSON.stringify(name)}, which the file does not hold`);
      return e;
    };
    if ('$tensor' in o) {
      const e = entry(o.$tensor);
      if (e.dtype === 'F32' && e.data instanceof Float32Array) return new Tensor(e.data, e.shape);
      if (e.dtype === 'F64' && e.data instanceof Float64Array) return new Tensor(e.data, e.shape);
      throw new Error(`${where}: state tensor ${String(o.$tensor)} must be F32 or F64, got ${e.dtype}`);
    }
    if ('$array' in o) {
      const e = entry(o.$array);
      if (e.data instanceof Float64Array || e.data instanceof Float32Array || e.data instanceof Int32Array) return e.data;
      throw new Error(`${where}: state array ${String(o.$array)} must be F64, F32 or I32, got ${e.dtype}`);
    }
    if ('$number' in o) return Number(o.$number);
    const out: Record<string, StateTree> = {};
    for (const [k, v] of Object.entries(o)) out[k] = decodeTree(v, tensors, where);
    return out;
  }
  throw new Error(`${where}: malformed training state`);
}
