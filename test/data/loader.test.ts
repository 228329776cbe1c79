import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DataLoader, cifarAugment, type Batch, type Dataset, type DataLoaderState } from '../../src/data/index.js';
import { Tensor } from '../../src/tensor/tensor.js';

/** n images of shape [c, h, w]; image i is filled with i + 1 (channel c adds 1000·c); label i. */
function indexed(n: number, shape: [number, number, number] = [1, 2, 2]): Dataset {
  const per = shape[0] * shape[1] * shape[2];
  const plane = shape[1] * shape[2];
  const images = new Float32Array(n * per);
  for (let i = 0; i < n; i++) for (let j = 0; j < per; j++) images[i * per + j] = i + 1 + 1000 * Math.floor(j / plane) + 0.001 * (j % plane);
  return { images, labels: Int32Array.from({ length: n }, (_, i) => i), shape, numClasses: n, name: 'indexed' };
}

const epoch = (loader: DataLoader): Batch[] => [...loader];
const order = (batches: Batch[]): number[] => batches.flatMap((b) => Array.from(b.y));

describe('DataLoader', () => {
  it('yields [B, C, H, W] float32 tensors with their labels, the last batch short', () => {
    const ds = indexed(10);
    const loader = new DataLoader(ds, { batchSize: 4 });
    expect(loader.length).toBe(3);
    const batches = epoch(loader);
    expect(batches.map((b) => b.x.shape)).toEqual([
      [4, 1, 2, 2],
      [4, 1, 2, 2],
      [2, 1, 2, 2],
    ]);
    expect(batches[0].x).toBeInstanceOf(Tensor);
    expect(batches[0].x.dtype).toBe('float32');
    expect(order(batches)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(Array.from(batches[2].x.data)).toEqual(Array.from(ds.images.subarray(8 * 4)));
    expect(Array.from(batches[1].indices)).toEqual([4, 5, 6, 7]);
    expect(loader.epoch).toBe(1);
    // Unshuffled: the same order every epoch.
    expect(order(epoch(loader))).toEqual(order(batches));
  });

  it('drops the short last batch with dropLast, and yields nothing when no batch is full', () => {
    const loader = new DataLoader(indexed(10), { batchSize: 4, dropLast: true, shuffle: true });
    expect(loader.length).toBe(2);
    const b = epoch(loader);
    expect(b.map((x) => x.y.length)).toEqual([4, 4]);
    const none = new DataLoader(indexed(3), { batchSize: 4, dropLast: true });
    expect(none.length).toBe(0);
    expect(epoch(none)).toEqual([]);
    expect(none.epoch).toBe(1);
    expect(new DataLoader(indexed(0), { batchSize: 4 }).length).toBe(0);
  });

  it('batches every sample once per epoch for any size (property, seeded)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 1, max: 12 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer(),
        (n, bs, dropLast, shuffle, seed) => {
          const loader = new DataLoader(indexed(n), { batchSize: bs, dropLast, shuffle, seed });
          for (let e = 0; e < 2; e++) {
            const batches = epoch(loader);
            expect(batches.length).toBe(loader.length);
            const full = Math.floor(n / bs);
            for (let k = 0; k < full; k++) expect(batches[k].y.length).toBe(bs);
            const seen = order(batches);
            expect(new Set(seen).size).toBe(seen.length);
            expect(seen.length).toBe(dropLast ? full * bs : n);
            for (const b of batches)
              expect(
                Array.from(
                  b.x.data.filter((_, j) => j % 4 === 0),
                  (v) => v - 1,
                ),
              ).toEqual(Array.from(b.y));
          }
          expect(loader.epoch).toBe(2);
        },
      ),
      { seed: 5, numRuns: 100 },
    );
  });

  it('shuffles with a new permutation each epoch, reproducibly from the seed', () => {
    const epochs = (seed: number, k: number): number[][] => {
      const loader = new DataLoader(indexed(50), { batchSize: 8, shuffle: true, seed });
      return Array.from({ length: k }, () => order(epoch(loader)));
    };
    const a = epochs(3, 3);
    expect(epochs(3, 3)).toEqual(a);
    expect(a[0]).not.toEqual(a[1]);
    expect(a[1]).not.toEqual(a[2]);
    expect([...a[1]].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(epochs(4, 1)[0]).not.toEqual(a[0]);
    // An augment function does not change the order (it draws from its own generator).
    const withAug = new DataLoader(indexed(50, [3, 4, 4]), { batchSize: 8, shuffle: true, seed: 3, augment: cifarAugment({ pad: 1 }) });
    expect([order(epoch(withAug)), order(epoch(withAug))]).toEqual(a.slice(0, 2));
  });

  it('resumes mid-epoch from a JSON round-tripped state with identical batches, augmentation included', () => {
    const ds = indexed(11, [3, 4, 4]);
    const opts = { batchSize: 3, shuffle: true, seed: 17, augment: cifarAugment({ pad: 2 }) };
    const reference = new DataLoader(ds, opts);
    const all = [...epoch(reference), ...epoch(reference), ...epoch(reference)]; // 3 epochs × 4 batches
    expect(all.length).toBe(12);

    const first = new DataLoader(ds, opts);
    epoch(first);
    let k = 0;
    let saved: DataLoaderState | null = null;
    for (const b of first) {
      expect(b.x.data).toEqual(all[4 + k].x.data);
      if (++k === 2) {
        saved = JSON.parse(JSON.stringify(first.getState())) as DataLoaderState;
        break;
      }
    }
    expect(saved).toMatchObject({ epoch: 1, position: 2, size: 11, batchSize: 3 });

    const resumed = new DataLoader(ds, opts);
    resumed.setState(saved!);
    const rest = [...epoch(resumed), ...epoch(resumed)];
    expect(rest.length).toBe(2 + 4);
    rest.forEach((b, i) => {
      expect(Array.from(b.y)).toEqual(Array.from(all[6 + i].y));
      expect(b.x.data).toEqual(all[6 + i].x.data);
    });
    expect(resumed.epoch).toBe(3);

    // Breaking out leaves the same loader mid-epoch: the next loop finishes that epoch.
    expect(order(epoch(first))).toEqual(order(all.slice(6, 8)));
  });

  it('resumes from a state taken on the last batch of an epoch', () => {
    const ds = indexed(9);
    const opts = { batchSize: 4, shuffle: true, seed: 2 };
    const reference = new DataLoader(ds, opts);
    const want = (epoch(reference), order(epoch(reference)));
    const a = new DataLoader(ds, opts);
    let state: DataLoaderState | null = null;
    for (const _ of a) state = a.getState();
    expect(state).toMatchObject({ epoch: 1, position: 0 });
    const b = new DataLoader(ds, opts);
    b.setState(state!);
    expect(order(epoch(b))).toEqual(want);
  });

  it('does not modify the dataset when augmenting', () => {
    const ds = indexed(6, [3, 4, 4]);
    const copy = ds.images.slice();
    const loader = new DataLoader(ds, { batchSize: 4, augment: cifarAugment({ pad: 3 }), seed: 1 });
    const b = epoch(loader);
    expect(ds.images).toEqual(copy);
    expect(b[0].x.shape).toEqual([4, 3, 4, 4]);
    expect(b.some((x) => x.x.data.some((v) => v === 0))).toBe(true); // zero padding showed up
  });

  it('rejects bad options and foreign states', () => {
    const ds = indexed(5);
    expect(() => new DataLoader(ds, { batchSize: 0 })).toThrow('DataLoader: batchSize must be a positive integer, got 0');
    expect(() => new DataLoader(ds, { batchSize: 2.5 })).toThrow('DataLoader: batchSize must be a positive integer, got 2.5');
    expect(() => new DataLoader(ds, { batchSize: 2, augment: 'flip' as never })).toThrow(
      'DataLoader: augment must be a function (img, shape, gen) => void, got string',
    );
    expect(() => new DataLoader({ ...ds, images: new Float32Array(3) }, { batchSize: 2 })).toThrow(
      'DataLoader: dataset.images must hold labels.length·C·H·W = 5·4 = 20 values, got 3',
    );
    const loader = new DataLoader(ds, { batchSize: 2, shuffle: true });
    const other = new DataLoader(ds, { batchSize: 3, shuffle: true }).getState();
    expect(() => loader.setState(other)).toThrow("DataLoader.setState: state.batchSize must equal this loader's batchSize 2, got 3");
    const good = loader.getState();
    expect(() => loader.setState({ ...good, position: 3 })).toThrow('DataLoader.setState: state.position must be an integer in [0, 2], got 3');
    expect(() => loader.setState({ ...good, shuffleState: [1, 2] })).toThrow(
      'DataLoader.setState: state.shuffleState must be 5 numbers (a Generator state), got [1,2]',
    );
    expect(() => loader.setState({ ...good, epoch: -1 })).toThrow('DataLoader.setState: state.epoch must be a non-negative integer, got -1');
  });
});
