import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { lineChart, scatterChart, stepChart, PALETTE, type ChartOptions } from '../../src/io/svg-plot.js';
import { escapeXml } from '../../src/io/svg-xml.js';

/**
 * A strict little XML checker: every byte is a tag, an entity-clean text run, or the trailing
 * newline; attributes are double-quoted without '<' or a bare '&'; tags balance; one root <svg>.
 */
function checkWellFormed(svg: string): void {
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/y;
  const textRun = /[^<]+/y;
  const bareAmp = /&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/;
  const stack: string[] = [];
  let roots = 0;
  let i = 0;
  while (i < svg.length) {
    tag.lastIndex = i;
    const m = tag.exec(svg);
    if (m) {
      const [whole, closing, name, attrs, selfClosing] = m;
      if (bareAmp.test(attrs)) throw new Error(`bare & in attributes of <${name}>`);
      if (closing) {
        const open = stack.pop();
        if (open !== name) throw new Error(`</${name}> closes <${open}>`);
      } else {
        if (stack.length === 0) roots++;
        if (!selfClosing) stack.push(name);
      }
      i += whole.length;
      continue;
    }
    textRun.lastIndex = i;
    const t = textRun.exec(svg);
    if (!t) throw new Error(`not a tag at ${i}: ${svg.slice(i, i + 40)}`);
    if (stack.length === 0 && t[0].trim() !== '') throw new Error(`text outside the root: ${t[0]}`);
    if (bareAmp.test(t[0])) throw new Error(`bare & in text: ${t[0]}`);
    i += t[0].length;
  }
  if (stack.length) throw new Error(`unclosed: ${stack.join(', ')}`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
  expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
}

/** Every number in attribute values is finite. */
function checkNumbers(svg: string): void {
  expect(svg).not.toMatch(/NaN|Infinity|undefined|null/);
  for (const [, name, value] of svg.matchAll(/\s([\w:-]+)="([^"]*)"/g)) {
    if (name === 'id' || name === 'clip-path') continue; // hex ids, not numbers
    for (const n of value.match(/-?\d*\.?\d+(e-?\d+)?/g) ?? []) if (!Number.isFinite(Number(n))) throw new Error(`non-finite number ${n} in ${value}`);
  }
}

/** Text contents of the <text> elements, unescaped. */
function texts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) =>
    m[1]
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'")
      .replace(/&amp;/g, '&'),
  );
}

const base: ChartOptions = {
  title: 'Training loss',
  xLabel: 'step',
  yLabel: 'loss',
  series: [
    {
      name: 'full',
      points: [
        [0, 2.3],
        [100, 1.1],
        [200, 0.6],
        [300, 0.4],
      ],
    },
    {
      name: 'TDLRT τ=0.1',
      points: [
        [0, 2.3],
        [100, 1.3],
        [200, 0.7],
        [300, 0.45],
      ],
      dashed: true,
    },
  ],
};

describe('lineChart', () => {
  it('is well-formed and shows the title, axis labels, ticks and legend', () => {
    const svg = lineChart(base);
    checkWellFormed(svg);
    checkNumbers(svg);
    const t = texts(svg);
    for (const s of ['Training loss', 'step', 'loss', 'full', 'TDLRT τ=0.1']) expect(t).toContain(s);
    expect(t).toEqual(expect.arrayContaining(['0', '100', '200', '300', '0.0', '0.5', '1.0', '1.5', '2.0', '2.5']));
    expect(svg).toContain('<title>Training loss</title>');
    expect(svg).toContain('stroke-dasharray="6 4"');
    expect(svg).toContain(`stroke="${PALETTE[0]}"`);
    expect(svg).toContain(`stroke="${PALETTE[1]}"`);
  });

  it('is deterministic', () => {
    expect(lineChart(base)).toBe(lineChart(structuredClone(base)));
  });

  it('escapes text for XML', () => {
    const svg = lineChart({
      title: `a <b> & "c" 'd'`,
      xLabel: '<x>',
      series: [
        {
          name: 'R&D </text>',
          points: [
            [0, 1],
            [1, 2],
          ],
        },
      ],
    });
    checkWellFormed(svg);
    expect(svg).toContain('a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;');
    expect(texts(svg)).toContain('R&D </text>');
    expect(escapeXml('\u0001ok\uD800')).toBe('\uFFFDok\uFFFD');
  });

  it('draws an empty chart: no series, or series without points', () => {
    for (const series of [
      [],
      [{ name: 'nothing', points: [] }],
      [
        {
          name: 'all missing',
          points: [
            [NaN, 1],
            [2, NaN],
          ] as [number, number][],
        },
      ],
    ]) {
      const svg = lineChart({ title: 'Empty', series });
      checkWellFormed(svg);
      checkNumbers(svg);
      expect(texts(svg)).toContain('no data');
      for (const s of series) expect(texts(svg)).toContain(s.name);
    }
  });

  it('marks a single point, since it has no line', () => {
    const svg = lineChart({ title: 'One', series: [{ name: 'p', points: [[5, 0.5]] }] });
    checkWellFormed(svg);
    checkNumbers(svg);
    expect(svg).toContain('<circle');
    expect(svg).not.toMatch(/<path d="M[^"]*L[^"]*" fill="none" stroke="#0072B2"/);
  });

  it('skips NaN and breaks the line there', () => {
    const svg = lineChart({
      title: 'Gap',
      series: [
        {
          name: 'g',
          points: [
            [0, 1],
            [1, 2],
            [2, NaN],
            [3, 3],
            [4, 4],
          ],
        },
      ],
    });
    checkWellFormed(svg);
    checkNumbers(svg);
    const d = /<path d="([^"]*)" fill="none" stroke="#0072B2"/.exec(svg)![1];
    expect(d.match(/M/g)).toHaveLength(2);
  });

  it('widens a constant series to a readable axis', () => {
    const svg = lineChart({
      title: 'Flat',
      series: [
        {
          name: 'c',
          points: [
            [0, 0.95],
            [1, 0.95],
            [2, 0.95],
          ],
        },
      ],
    });
    checkWellFormed(svg);
    checkNumbers(svg);
    const labels = texts(svg)
      .filter((s) => /^\d/.test(s))
      .map(Number);
    expect(labels.some((v) => v < 0.95) && labels.some((v) => v > 0.95)).toBe(true);
  });

  it('uses decade ticks on a log axis and skips y ≤ 0 there', () => {
    const svg = lineChart({
      title: 'Log',
      logY: true,
      series: [
        {
          name: 'l',
          points: [
            [0, 2],
            [1, 0.02],
            [2, 0],
            [3, -1],
            [4, 0.003],
          ],
        },
      ],
    });
    checkWellFormed(svg);
    checkNumbers(svg);
    expect(texts(svg)).toEqual(expect.arrayContaining(['0.001', '0.01', '0.1', '1', '10']));
  });

  it('honours fixed bounds and rejects bad ones with a clear message', () => {
    const svg = lineChart({ ...base, yMin: 0, yMax: 3 });
    expect(texts(svg)).toEqual(expect.arrayContaining(['0', '1', '2', '3']));
    const lower = lineChart({ ...base, yMin: 0 }); // the top follows the data, rounded out to a tick
    expect(texts(lower)).toEqual(expect.arrayContaining(['0', '1', '2', '3']));
    expect(() => lineChart({ ...base, yMin: 2, yMax: 1 })).toThrow(/yMin must be below yMax/);
    expect(() => lineChart({ ...base, logY: true, yMin: 0 })).toThrow(/log axis needs yMin and yMax > 0/);
    expect(() => lineChart({ ...base, width: NaN })).toThrow(/width must be a positive number/);
    expect(() => lineChart({ ...base, width: 60 })).toThrow(/no room to plot/);
  });

  it('property: any data gives well-formed, finite, deterministic SVG', () => {
    const value = fc.oneof(fc.double({ noDefaultInfinity: false }), fc.constantFrom(0, 1, -1, NaN, Infinity, -Infinity, 1e-300, 1e300));
    const series = fc.array(
      fc.record({
        name: fc.string({ maxLength: 12 }),
        points: fc.array(fc.tuple(value, value), { maxLength: 8 }),
        dashed: fc.boolean(),
      }),
      { maxLength: 10 },
    );
    fc.assert(
      fc.property(series, fc.boolean(), fc.constantFrom(lineChart, scatterChart, stepChart), (s, logY, chart) => {
        const options = { title: 'P', xLabel: 'x', yLabel: 'y', series: s, logY };
        const svg = chart(options);
        checkWellFormed(svg);
        checkNumbers(svg);
        expect(chart(options)).toBe(svg);
      }),
      { seed: 42, numRuns: 150 },
    );
  });
});

describe('scatterChart', () => {
  it('draws markers per point, distinct shapes per series, and an optional line', () => {
    const svg = scatterChart({
      title: 'Accuracy against compression',
      xLabel: 'compression (%)',
      yLabel: 'test accuracy (%)',
      series: [
        {
          name: 'TDLRT',
          points: [
            [86, 97],
            [93, 96.5],
            [97, 96.2],
          ],
          line: true,
        },
        {
          name: 'Tucker fixed',
          points: [
            [82, 96.9],
            [93, 95.1],
          ],
        },
      ],
    });
    checkWellFormed(svg);
    checkNumbers(svg);
    expect(svg.match(/<circle/g)!.length).toBe(3 + 1); // three points and the legend sample
    expect(svg.match(/<rect x="[^"]*" y="[^"]*" width="7.65"/g)!.length).toBe(2 + 1);
    expect(svg).toMatch(/<path d="M[^"]*L[^"]*L[^"]*" fill="none" stroke="#0072B2"/);
    expect(texts(svg)).toEqual(expect.arrayContaining(['TDLRT', 'Tucker fixed']));
  });
});

describe('stepChart', () => {
  it('draws horizontal-then-vertical steps', () => {
    const svg = stepChart({
      title: 'Ranks over steps',
      xLabel: 'step',
      yLabel: 'rank',
      yMin: 0,
      series: [
        {
          name: 'conv2 out',
          points: [
            [0, 50],
            [100, 30],
            [200, 20],
          ],
        },
      ],
    });
    checkWellFormed(svg);
    const d = /<path d="([^"]*)" fill="none" stroke="#0072B2"/.exec(svg)![1];
    expect(d).toMatch(/^M[\d.]+ [\d.]+H[\d.]+V[\d.]+H[\d.]+V[\d.]+$/);
  });
});
