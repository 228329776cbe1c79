/** Conversions between safetensors entries and the library's Tensor (float32 ↔ F32, float64 ↔ F64). */
import { Tensor } from '../tensor/tensor.js';
import type { SafetensorsEntry } from './safetensors-codec.js';

/** The entry for a tensor. Shares the tensor's buffer (encoding copies it). */
export function fromTensor(t: Tensor): SafetensorsEntry {
  if (t.dtype === 'float64') return { dtype: 'F64', shape: [...t.shape], data: t.data };
  if (t.dtype === 'float32') return { dtype: 'F32', shape: [...t.shape], data: t.data };
  throw new Error(`fromTensor: tensor dtype must be 'float32' or 'float64', got ${String(t.dtype)}`);
}

/** A Tensor over the entry's data (shared, not copied). Only F32 and F64 entries map to a Tensor. */
export function toTensor(entry: SafetensorsEntry): Tensor {
  if ((entry.dtype === 'F32' && entry.data instanceof Float32Array) || (entry.dtype === 'F64' && entry.data instanceof Float64Array)) {
    return Tensor.fromData(entry.data, entry.shape);
  }
  throw new Error(`toTensor: only F32 and F64 entries become Tensors, got dtype ${entry.dtype} with ${entry.data?.constructor?.name ?? typeof entry.data}`);
}
