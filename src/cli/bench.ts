/** `tuckergrad bench`: run the benches of bench/ by name (each is a script run through tsx). */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readJsonl } from '../io/jsonl.js';
import { closest, UsageError, type CommandSpec, type OptionSpecs, type Parsed } from './args.js';
import { CliError, writeText, type CliIO } from './common.js';
import { accuracyCompressionChart, type CompressionPoint } from './reports.js';

/** The repository's bench folder (next to src/). */
export const BENCH_DIR = fileURLToPath(new URL('../../bench/', import.meta.url));

export const BENCH_OPTIONS = {
  list: { type: 'boolean', description: 'List the benches and exit.' },
  out: {
    type: 'string',
    short: 'o',
    placeholder: 'DIR',
    description:
      "Save each bench's output as DIR/<name>.txt; benches see the folder as $TUCKERGRAD_OUT. JSONL results there with accuracy and compression fields are plotted as accuracy-vs-compression.svg.",
  },
  dir: { type: 'string', placeholder: 'DIR', description: "The folder of bench scripts (default: the repository's bench/)." },
} as const satisfies OptionSpecs;

export const BENCH_SPEC: CommandSpec<typeof BENCH_OPTIONS> = {
  name: 'bench',
  summary: 'Run benches from bench/ by name (gemm, train-step, tdlrt-step, …), passing on the arguments after --.',
  positionals: [{ name: 'name', description: 'Bench names (file names in bench/ without .ts).', variadic: true }],
  passthrough: 'BENCH ARGS',
  options: BENCH_OPTIONS,
  examples: ['tuckergrad bench --list', 'tuckergrad bench train-step -- --batch 64 --steps 20', 'tuckergrad bench methods --out runs/bench'],
};

export function listBenches(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CliError(`bench folder ${dir} does not exist`);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => f.slice(0, -3))
    .sort();
}

/** Accuracy/compression records of the JSONL files in `dir` (fields accuracy and compression, grouped by method). */
export function collectCompressionPoints(dir: string): CompressionPoint[] {
  const points: CompressionPoint[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.jsonl'))) {
    let rows: unknown[];
    try {
      rows = readJsonl(join(dir, f));
    } catch {
      continue;
    }
    for (const r of rows as Record<string, unknown>[]) {
      if (r && typeof r.accuracy === 'number' && typeof r.compression === 'number') {
        points.push({ series: String(r.method ?? r.series ?? basename(f, '.jsonl')), compression: r.compression, accuracy: r.accuracy });
      }
    }
  }
  return points;
}

function runOne(file: string, args: readonly string[], io: CliIO, out: string | undefined, cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((done, fail) => {
    const env = { ...process.env, ...(out ? { TUCKERGRAD_OUT: resolve(out) } : {}) };
    const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (b: Buffer) => {
      output += b.toString();
      io.stdout.write(b.toString());
    });
    child.stderr.on('data', (b: Buffer) => io.stderr.write(b.toString()));
    child.on('error', fail);
    child.on('close', (code, signal) => done({ code: code ?? (signal ? 128 : 1), output }));
  });
}

export async function runBench(parsed: Parsed<typeof BENCH_OPTIONS>, io: CliIO): Promise<number> {
  const o = parsed.options;
  const dir = o.dir ? resolve(o.dir) : BENCH_DIR;
  const names = listBenches(dir);
  if (o.list) {
    io.stdout.write(names.length ? `${names.join('\n')}\n` : `no benches in ${dir}\n`);
    return 0;
  }
  if (parsed.positionals.length === 0) throw new UsageError(`name a bench to run (${names.join(', ')}), or pass --list`, 'bench');
  for (const n of parsed.positionals) {
    if (!names.includes(n)) {
      const hint = closest(n, names);
      throw new UsageError(`no bench named '${n}'${hint ? ` (did you mean '${hint}'?)` : ''}; the benches are ${names.join(', ')}`, 'bench');
    }
  }
  const root = resolve(BENCH_DIR, '..'); // the repository root, where tsx resolves
  for (const n of parsed.positionals) {
    io.stderr.write(`tuckergrad bench: ${n}${parsed.rest.length ? ` ${parsed.rest.join(' ')}` : ''}\n`);
    const { code, output } = await runOne(join(dir, `${n}.ts`), parsed.rest, io, o.out, root);
    if (o.out) writeText(join(o.out, `${n}.txt`), output);
    if (code !== 0) throw new CliError(`bench ${n} failed with exit code ${code}`);
  }
  if (o.out && existsSync(o.out)) {
    const points = collectCompressionPoints(o.out);
    if (points.length > 0) {
      writeText(join(o.out, 'accuracy-vs-compression.svg'), accuracyCompressionChart(points));
      io.stderr.write(`tuckergrad bench: wrote ${join(o.out, 'accuracy-vs-compression.svg')} (${points.length} points)\n`);
    }
  }
  return 0;
}
