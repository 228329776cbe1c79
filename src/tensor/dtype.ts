/** Element types. float32 is for training; float64 for linear algebra and gradient checks. */
export type DType = 'float32' | 'float64';
export type TypedArray = Float32Array | Float64Array;

export function allocate(dtype: DType, size: number): TypedArray {
  return dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
}

export function dtypeOf(data: TypedArray): DType {
  return data instanceof Float64Array ? 'float64' : 'float32';
}

export function isDType(x: unknown): x is DType {
  return x === 'float32' || x === 'float64';
}
