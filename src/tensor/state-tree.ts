import type { Tensor } from './tensor.js';

/**
 * JSON-like data whose leaves may be Tensors or typed arrays: the state of an optimizer or training
 * method as a checkpoint stores it (io/state-tree.ts writes the leaves as tensors).
 */
export type StateTree = null | boolean | number | string | Tensor | Float64Array | Float32Array | Int32Array | StateTree[] | { [key: string]: StateTree };
