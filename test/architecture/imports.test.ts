/**
 * The allowed import arrows between the layers of src/ (docs/design.md §2), read from the source:
 * every `import … from`, `export … from`, side-effect `import '…'`, dynamic `import('…')` and
 * `declare module '…'` with a relative path is an arrow from its file to the file it names. Type-only
 * imports count too: a type import is still a dependency a reader has to follow.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '../../src');

/**
 * The arrows of docs/design.md §2.2: each layer and the layers directly below it. A layer may import
 * every layer its arrows reach (the closure below). The files at the root of src/ (index.ts,
 * cli.ts) may import anything.
 */
const ARROWS: Record<string, readonly string[]> = {
  cli: ['train'],
  train: ['lowrank', 'io', 'data'],
  lowrank: ['optim', 'tucker'],
  optim: ['nn'],
  nn: ['ops'],
  tucker: ['ops', 'linalg'],
  ops: ['autograd'],
  autograd: ['backend'],
  linalg: ['backend'],
  backend: ['tensor'],
  io: ['tensor'],
  data: ['io'],
  tensor: [],
};

function reachable(layer: string, seen = new Set<string>()): Set<string> {
  for (const next of ARROWS[layer] ?? []) {
    if (seen.has(next)) continue;
    seen.add(next);
    reachable(next, seen);
  }
  return seen;
}

const ALLOWED: Record<string, ReadonlySet<string>> = Object.fromEntries(Object.keys(ARROWS).map((l) => [l, reachable(l)]));

/**
 * Arrows that break the rules, each as `from-file -> to-file` (paths under src/). Empty: the last
 * ones (io/checkpoint.ts reaching up into nn, optim and lowrank; lowrank/methods importing the step
 * from train/) went when the checkpoint's parts moved to their layers. The test fails on entries
 * that no longer match anything, so an entry added here cannot go stale.
 */
const KNOWN_VIOLATIONS: readonly string[] = [];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Drops comments (so examples in doc comments are not read as imports); strings stay. */
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

const IMPORT =
  /(?:^|[\s;])(?:import|export)\s[^'";]*?\bfrom\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*\(?\s*['"]([^'"]+)['"]|declare\s+module\s+['"]([^'"]+)['"]/g;

/** The relative imports of one file, resolved to paths under src/ ('.js' specifiers name '.ts' files). */
function importsOf(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of stripComments(text).matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (!spec.startsWith('.')) continue;
    const target = normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts');
    out.push(relative(SRC, target).split('\\').join('/'));
  }
  return out;
}

const layerOf = (path: string): string => (path.includes('/') ? path.split('/')[0] : '(root)');

function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const f of sourceFiles(SRC)) g.set(relative(SRC, f).split('\\').join('/'), importsOf(f, readFileSync(f, 'utf8')));
  return g;
}

/** Strongly connected components of more than one file (Tarjan), each sorted. */
function cycles(g: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of g.get(v) ?? []) {
      if (!g.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of g.keys()) if (!idx.has(v)) visit(v);
  return out;
}

describe('import arrows of src/', () => {
  const g = graph();
  const arrows = [...g].flatMap(([from, tos]) => tos.map((to) => ({ from, to, label: `${from} -> ${to}` })));

  it('reads the graph: every relative import names a file that exists', () => {
    expect(g.size).toBeGreaterThan(100);
    const missing = arrows.filter((a) => !g.has(a.to)).map((a) => a.label);
    expect(missing).toEqual([]);
  });

  it('finds multi-line, type-only, side-effect and re-export imports (parser check)', () => {
    const file = join(SRC, 'ops/example.ts');
    const text = [
      "import {\n  a,\n  b,\n} from '../tensor/tensor.js';",
      "import type { K } from '../backend/kernels.js';",
      "import './tensor-methods.js';",
      "export { x } from './util.js';",
      "// import { no } from '../nn/module.js';",
      "/* import { no } from '../io/files.js'; */",
      "const m = await import('../autograd/record.js');",
      "declare module '../tensor/storage.js' {}",
    ].join('\n');
    expect(importsOf(file, text)).toEqual([
      'tensor/tensor.ts',
      'backend/kernels.ts',
      'ops/tensor-methods.ts',
      'ops/util.ts',
      'autograd/record.ts',
      'tensor/storage.ts',
    ]);
  });

  it('the arrows reach what docs/design.md §2.2 lists for each layer', () => {
    const list = (l: string): string => [...ALLOWED[l]].sort().join(' ');
    expect(list('tensor')).toBe('');
    expect(list('ops')).toBe('autograd backend tensor');
    expect(list('nn')).toBe('autograd backend ops tensor');
    expect(list('lowrank')).toBe('autograd backend linalg nn ops optim tensor tucker');
    expect(list('io')).toBe('tensor');
  });

  it('every arrow between layers is allowed (or a named, known violation)', () => {
    expect(Object.keys(ALLOWED).sort()).toEqual([...new Set([...g.keys()].map(layerOf))].filter((l) => l !== '(root)').sort());
    const bad = arrows.filter(({ from, to }) => {
      const a = layerOf(from);
      const b = layerOf(to);
      return a !== '(root)' && a !== b && !ALLOWED[a].has(b);
    });
    const known = new Set(KNOWN_VIOLATIONS);
    expect(bad.map((a) => a.label).filter((l) => !known.has(l))).toEqual([]);
  });

  it('nothing outside backend/ imports backend/cpu or backend/gpu', () => {
    const bad = arrows.filter(({ from, to }) => layerOf(from) !== 'backend' && /^backend\/(cpu|gpu)\//.test(to));
    const known = new Set(KNOWN_VIOLATIONS);
    expect(bad.map((a) => a.label).filter((l) => !known.has(l))).toEqual([]);
  });

  it('the known violations all still exist (remove an entry once its arrow is gone)', () => {
    const present = new Set(arrows.map((a) => a.label));
    expect(KNOWN_VIOLATIONS.filter((v) => !present.has(v))).toEqual([]);
  });

  it('no import cycle crosses a layer boundary (in particular none between tensor, autograd and ops)', () => {
    const crossing = cycles(g).filter((scc) => new Set(scc.map(layerOf)).size > 1);
    expect(crossing).toEqual([]);
  });
});
