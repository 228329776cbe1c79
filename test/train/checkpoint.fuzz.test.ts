/**
 * Fuzz (issue #19): 1,000 random corruptions of a real checkpoint (a trained MLP, about 215 KB):
 * byte flips, truncations, header edits, duplicated keys, huge shapes. Half the header edits are
 * re-signed with a valid checksum, so that the checks behind the checksum are exercised too.
 * Each must give a clear error (an Error naming the checkpoint, not a TypeError or RangeError from
 * deep inside) or a model that runs, and the whole run must stay under a stated memory bound.
 */
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noGrad } from '../../src/autograd/grad-mode.js';
import { buildBaseModel, type ModelSpec } from '../../src/nn/zoo.js';
import { loadCheckpoint, restoreModel, saveCheckpoint } from '../../src/train/checkpoint.js';
import { factorize } from '../../src/lowrank/factorize.js';
import { Generator } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { tempDir } from '../cli/helpers.js';
import { peakRss } from '../data/memory.js';

const MLP: ModelSpec = { builder: 'mlp', numClasses: 10, dtype: 'float32', inputShape: [1, 28, 28] };
/** Stated bound on the growth of peak memory over all 1,000 cases: a few hundred times the file, at most. */
const MEMORY_BOUND = 192 << 20;

let dir: string;
let path: string;
let good: Buffer;
beforeAll(() => {
  dir = tempDir('tuckergrad-fuzz-ckpt-');
  path = join(dir, 'fuzz.safetensors');
  // Factorised, so that tuckergrad.layers describes low-rank layers (sizes a hostile edit can inflate).
  const model = buildBaseModel(MLP);
  factorize(model, { rankRatio: 0.5, init: 'random', generator: new Generator(3) });
  saveCheckpoint(path, { model, modelSpec: MLP, kind: 'model', sections: { metrics: { testAccuracy: 0.3281 } } });
  good = readFileSync(path);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The file's parts: header JSON text and data bytes. */
function split(bytes: Buffer): { header: string; data: Buffer } {
  const n = Number(bytes.readBigUInt64LE(0));
  return { header: bytes.subarray(8, 8 + n).toString('utf8'), data: bytes.subarray(8 + n) };
}

/** Rebuilds a file from a header text and data, then (if asked and possible) writes a valid checksum. */
function join2(header: string, data: Buffer, sign: boolean): Buffer {
  const h = Buffer.from(header, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(h.length));
  const bytes = Buffer.concat([prefix, h, data]);
  if (!sign) return bytes;
  // The checksum as the format defines it, written independently of the code under test.
  const field = '"tuckergrad.sha256":"';
  const at = bytes.indexOf(field);
  if (at < 0 || bytes.indexOf(field, at + 1) >= 0 || bytes.length < at + field.length + 64) return bytes;
  const start = at + field.length;
  bytes.fill('0', start, start + 64);
  bytes.write(createHash('sha256').update(bytes).digest('hex'), start, 'latin1');
  return bytes;
}

type Corruption = (b: Buffer) => Buffer;

const NUMBERS = [0, 1, 2, 3, 7, 10, 64, 255, 1024, 65535, 2 ** 31, 2 ** 32, 2 ** 53, 1e15, 1e300, -1, 1.5, Number.NaN];

const corruption: fc.Arbitrary<Corruption> = fc.oneof(
  // Byte flips anywhere (header or data).
  fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }).map((flips) => (b: Buffer) => {
    const c = Buffer.from(b);
    for (const [at, x] of flips) c[at % c.length] ^= x;
    return c;
  }),
  // Truncations, and bytes appended.
  fc.nat().map((n) => (b: Buffer) => b.subarray(0, n % b.length)),
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((extra) => (b: Buffer) => Buffer.concat([b, extra])),
  // The length prefix changed.
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((n) => (b: Buffer) => {
    const c = Buffer.from(b);
    c.writeBigUInt64LE(n);
    return c;
  }),
  // One number in the header (a shape, an offset, numClasses, a layer size, a metric) replaced; signed or not.
  fc.tuple(fc.nat(), fc.constantFrom(...NUMBERS), fc.boolean()).map(([k, v, sign]) => (b: Buffer) => {
    const { header, data } = split(b);
    const numbers = [...header.matchAll(/-?\d+(\.\d+)?(e[+-]?\d+)?/g)];
    const m = numbers[k % numbers.length];
    const text = Number.isNaN(v) ? 'NaN' : String(v);
    return join2(header.slice(0, m.index) + text + header.slice((m.index as number) + m[0].length), data, sign);
  }),
  // The model description inflated: numClasses, or one size of a recorded layer, made huge; signed,
  // so that only the bounds behind the checksum can refuse it.
  fc.tuple(fc.nat(), fc.constantFrom(2 ** 20, 2 ** 26, 2 ** 31, 1e9, 1e15)).map(([k, v]) => (b: Buffer) => {
    const { header, data } = split(b);
    const sizes = [...header.matchAll(/\\"(?:numClasses|fullShape|inputShape)\\":\[?(\d+)/g)];
    const m = sizes[k % sizes.length];
    const at = (m.index as number) + m[0].length - m[1].length;
    return join2(header.slice(0, at) + String(v) + header.slice(at + m[1].length), data, true);
  }),
  // A tensor given a huge shape; signed.
  fc.tuple(fc.nat(), fc.constantFrom([1e9, 1e9], [2 ** 31, 2 ** 31, 2 ** 31], [0], [2 ** 53], [400_000_000])).map(([k, shape]) => (b: Buffer) => {
    const { header, data } = split(b);
    const shapes = [...header.matchAll(/"shape":\[[\d,]*\]/g)];
    const m = shapes[k % shapes.length];
    return join2(header.slice(0, m.index) + `"shape":${JSON.stringify(shape)}` + header.slice((m.index as number) + m[0].length), data, true);
  }),
  // A key duplicated (a tensor entry, or a metadata entry with another value); signed or not.
  fc.tuple(fc.nat(), fc.boolean()).map(([k, sign]) => (b: Buffer) => {
    const { header, data } = split(b);
    const entries = [...header.matchAll(/"(model\.[^"]+)":(\{[^}]*\})/g)];
    const m = entries[k % entries.length];
    return join2(header.replace('{"__metadata__"', `{${m[0]},"__metadata__"`), data, sign);
  }),
  fc
    .tuple(
      fc.constantFrom('tuckergrad.model', 'tuckergrad.layers', 'tuckergrad.kind', 'tuckergrad.format', 'tuckergrad.metrics'),
      fc.constantFrom('"{}"', '"[]"', '"x"', '"{\\"builder\\":\\"mlp\\",\\"numClasses\\":100000000,\\"dtype\\":\\"float32\\",\\"inputShape\\":[1,28,28]}"'),
      fc.boolean(),
    )
    .map(([key, value, sign]) => (b: Buffer) => {
      const { header, data } = split(b);
      return join2(header.replace('"__metadata__":{', `"__metadata__":{"${key}":${value},`), data, sign);
    }),
  // A key removed (the checksum itself, or a metadata section); signed or not.
  fc.tuple(fc.constantFrom('tuckergrad.sha256', 'tuckergrad.model', 'tuckergrad.layers', 'format'), fc.boolean()).map(([key, sign]) => (b: Buffer) => {
    const { header, data } = split(b);
    return join2(header.replace(new RegExp(`"${key.replace('.', '\\.')}":"(?:[^"\\\\]|\\\\.)*",?`), ''), data, sign);
  }),
);

describe('checkpoint fuzz', () => {
  it('1,000 corruptions: a clear error or a model that runs, never a crash, within the memory bound', () => {
    const x = new Tensor(new Float32Array(784), [1, 1, 28, 28]);
    const before = peakRss();
    let loaded = 0;
    let cases = 0;
    fc.assert(
      fc.property(corruption, (corrupt) => {
        writeFileSync(path, corrupt(good));
        let model: ReturnType<typeof restoreModel>;
        // Every other case as eval and compress read files (a plain safetensors file allowed), the rest as --resume does.
        const allowPlain = cases++ % 2 === 1;
        try {
          model = restoreModel(loadCheckpoint(path, { allowPlain }));
        } catch (err) {
          expect(err).toBeInstanceOf(Error);
          expect(err).not.toBeInstanceOf(TypeError);
          expect(err).not.toBeInstanceOf(RangeError);
          expect((err as Error).message).toMatch(/checkpoint .*fuzz\.safetensors/);
          return;
        }
        loaded++;
        const y = noGrad(() => model.eval().forward(x));
        expect(y.shape).toEqual([1, 10]);
      }),
      { seed: 19, numRuns: 1000 },
    );
    expect(peakRss() - before).toBeLessThan(MEMORY_BOUND);
    // Some cases leave a valid file (a flip in the padding, an unchanged signed edit): both outcomes occur.
    expect(loaded).toBeGreaterThan(0);
  });
});
