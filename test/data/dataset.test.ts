import { describe, expect, it } from 'vitest';
import { subset, take, classCounts, checkDataset, type Dataset } from '../../src/data/index.js';

function tiny(n: number): Dataset {
  const images = new Float32Array(n * 2 * 1 * 2);
  for (let i = 0; i < n; i++) images.fill(i, i * 4, (i + 1) * 4);
  return { images, labels: Int32Array.from({ length: n }, (_, i) => i % 3), shape: [2, 1, 2], numClasses: 3, name: 'tiny', classNames: ['a', 'b', 'c'] };
}

describe('subset / take / classCounts', () => {
  it('subset copies the chosen samples in order, repeats allowed', () => {
    const ds = tiny(5);
    const s = subset(ds, [4, 0, 4]);
    expect(Array.from(s.labels)).toEqual([1, 0, 1]);
    expect(Array.from(s.images)).toEqual([4, 4, 4, 4, 0, 0, 0, 0, 4, 4, 4, 4]);
    expect(s.shape).toEqual([2, 1, 2]);
    expect(s.name).toBe('tiny');
    s.images[0] = 99;
    expect(ds.images[16]).toBe(4);
    expect(subset(ds, new Int32Array(0)).labels.length).toBe(0);
  });

  it('take keeps the first n', () => {
    const t = take(tiny(5), 2);
    expect(Array.from(t.labels)).toEqual([0, 1]);
    expect(t.images.length).toBe(8);
    expect(Array.from(classCounts(tiny(7)))).toEqual([3, 2, 2]);
  });

  it('names the argument and the range in errors', () => {
    expect(() => subset(tiny(5), [1, 5])).toThrow('subset: indices[1] must be an integer in [0, 5), got 5');
    expect(() => subset(tiny(5), [0.5])).toThrow('subset: indices[0] must be an integer in [0, 5), got 0.5');
    expect(() => take(tiny(5), 6)).toThrow('take: n must be an integer in [0, 5] (the dataset size), got 6');
    const bad = { ...tiny(2), images: new Float32Array(7) };
    expect(() => checkDataset(bad, 'f')).toThrow('f: dataset.images must hold labels.length·C·H·W = 2·4 = 8 values, got 7');
    expect(() => take({ ...tiny(2), labels: [0, 1] as unknown as Int32Array }, 1)).toThrow('take: dataset.labels must be an Int32Array, got Array');
    expect(() => classCounts({ ...tiny(2), numClasses: 1 })).toThrow('classCounts: labels[1] must be in [0, 1), got 1');
  });
});
