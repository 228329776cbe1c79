import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FuncBuilder, T, assemble, sleb, uleb } from '../../src/backend/cpu/wasm/emit.js';
import { F32, F64 } from '../../src/backend/cpu/wasm/elem.js';
import { gemmKernel, packRows } from '../../src/backend/cpu/wasm/gemm-kernels.js';
import { dgemmModuleBytes, kernelFunctionNames, kernelModuleBytes, sdotModuleBytes, sgemmModuleBytes } from '../../src/backend/cpu/wasm/kernels.js';

function decodeUleb(bytes: number[]): number {
  let v = 0;
  for (let i = bytes.length - 1; i >= 0; i--) v = v * 128 + (bytes[i] & 0x7f);
  return v;
}

describe('wasm emitter', () => {
  it('encodes LEB128 as the spec examples and round-trips', () => {
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(uleb(0)).toEqual([0]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(sleb(-1)).toEqual([0x7f]);
    expect(sleb(64)).toEqual([0xc0, 0x00]);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (v) => decodeUleb(uleb(v)) === v),
      { seed: 42, numRuns: 200 },
    );
    expect(() => uleb(-1)).toThrow(/u32/);
  });

  it('assembles a module that runs: i32 and f32x4 arithmetic, loops, memory', () => {
    // sum4(ptr, n): Σ of n floats (n a multiple of 4) via f32x4 lanes, returned as one f32.
    const f = new FuncBuilder([T.i32, T.i32], [T.f32]);
    const end = f.local(T.i32);
    const acc = f.local(T.v128);
    f.get(0).get(1).i32(2).i32Shl().i32Add().set(end);
    f.v128Zero().set(acc);
    f.loop();
    f.get(acc).get(0).v128Load(0).f32x4Add().set(acc);
    f.get(0).i32(16).i32Add().tee(0).get(end).i32LtU().brIf(0);
    f.end();
    f.get(acc).f32x4ExtractLane(0).get(acc).f32x4ExtractLane(1).f32Add().get(acc).f32x4ExtractLane(2).f32Add().get(acc).f32x4ExtractLane(3).f32Add();
    const bytes = assemble({ memoryPages: 1, functions: [{ name: 'sum4', func: f }] });
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource), {});
    const mem = new Float32Array((inst.exports.mem as WebAssembly.Memory).buffer);
    for (let i = 0; i < 12; i++) mem[i] = i + 1;
    expect((inst.exports.sum4 as (p: number, n: number) => number)(0, 12)).toBe(78);
  });

  it('rejects unbalanced blocks', () => {
    const f = new FuncBuilder([], []);
    f.block();
    expect(() => assemble({ memoryPages: 1, functions: [{ name: 'f', func: f }] })).toThrow(/unclosed/);
  });

  it('the kernel modules validate (every register tile shape the benches try)', () => {
    expect(WebAssembly.validate(kernelModuleBytes() as BufferSource)).toBe(true);
    for (const [mr, nr] of [
      [4, 8],
      [6, 8],
      [8, 8],
      [4, 12],
      [2, 16],
    ])
      expect(WebAssembly.validate(sgemmModuleBytes(mr, nr) as BufferSource)).toBe(true);
    for (const [mr, nr] of [
      [2, 4],
      [3, 3],
      [4, 2],
    ])
      expect(WebAssembly.validate(sdotModuleBytes(mr, nr) as BufferSource)).toBe(true);
  });

  it('kernelFunctionNames lists the functions of the module in index order (profiles name them by index)', () => {
    const exported = WebAssembly.Module.exports(new WebAssembly.Module(kernelModuleBytes() as BufferSource))
      .filter((e) => e.kind === 'function')
      .map((e) => e.name);
    expect(kernelFunctionNames()).toEqual(exported);
    expect(kernelFunctionNames().slice(6, 9)).toEqual(['sdot', 'dgemm', 'packRowsD4']);
  });

  it('the float64 GEMM kernel validates at every tile with an even width', () => {
    for (const [mr, nr] of [
      [4, 4],
      [2, 2],
      [3, 6],
      [4, 8],
    ])
      expect(WebAssembly.validate(dgemmModuleBytes(mr, nr) as BufferSource)).toBe(true);
  });

  it('the GEMM emitters refuse a width that is not a whole number of vectors of the element type', () => {
    expect(() => gemmKernel(F32, 4, 6)).toThrow(/nr must be a positive multiple of 4 for f32, got 6/);
    expect(() => gemmKernel(F64, 4, 3)).toThrow(/nr must be a positive multiple of 2 for f64, got 3/);
    expect(() => gemmKernel(F64, 0, 4)).toThrow(/mr must be a positive integer, got 0/);
    expect(() => packRows(F64, 5)).toThrow(/w must be a positive multiple of 2 for f64, got 5/);
  });

  // One emitter serves both element types: each kernel, run on one micro-panel of A and of B
  // (packed as the GEMM packs them), gives the exact product of small integers.
  for (const [e, bytes, Ctor] of [
    [F32, sgemmModuleBytes, Float32Array],
    [F64, dgemmModuleBytes, Float64Array],
  ] as const) {
    it(`the ${e.name} GEMM kernel multiplies one pair of micro-panels exactly, and accumulates`, () => {
      const mr = 3;
      const nr = 2 * e.lanes;
      const kc = 5;
      const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes(mr, nr) as BufferSource));
      const mem = new Ctor((exports.mem as WebAssembly.Memory).buffer);
      const run = exports.sgemm ?? exports.dgemm;
      const ap = 0;
      const bp = mr * kc;
      const c = bp + nr * kc;
      // Ap[p·mr + i] = A[i, p]; Bp[p·nr + j] = B[p, j].
      for (let p = 0; p < kc; p++) {
        for (let i = 0; i < mr; i++) mem[ap + p * mr + i] = ((i * 7 + p * 3) % 11) - 5;
        for (let j = 0; j < nr; j++) mem[bp + p * nr + j] = ((j * 5 + p * 2) % 9) - 4;
      }
      const product = (i: number, j: number): number => {
        let s = 0;
        for (let p = 0; p < kc; p++) s += mem[ap + p * mr + i] * mem[bp + p * nr + j];
        return s;
      };
      (run as (...args: number[]) => void)(ap * e.bytes, bp * e.bytes, c * e.bytes, 1, 1, kc, nr * e.bytes, 0);
      for (let i = 0; i < mr; i++) for (let j = 0; j < nr; j++) expect(mem[c + i * nr + j]).toBe(product(i, j));
      (run as (...args: number[]) => void)(ap * e.bytes, bp * e.bytes, c * e.bytes, 1, 1, kc, nr * e.bytes, 1);
      for (let i = 0; i < mr; i++) for (let j = 0; j < nr; j++) expect(mem[c + i * nr + j]).toBe(2 * product(i, j));
    });
  }
});
