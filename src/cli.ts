/**
 * The tuckergrad command line: train, eval, compress, report, bench.
 *
 *   npx tuckergrad --help          (package.json "bin" → bin/tuckergrad.mjs, which runs this file through tsx)
 *   npx tsx src/cli.ts train --help
 *
 * main() never exits the process itself: it returns the exit code (0 success, 1 a failure such as a
 * corrupt checkpoint or missing data, 2 a usage mistake), so tests call it in-process.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { closest, formatHelp, parseArgs, UsageError, type CommandSpec, type OptionSpecs, type Parsed } from './cli/args.js';
import { BENCH_SPEC, runBench } from './cli/bench.js';
import { CliError, processIO, type CliIO } from './cli/common.js';
import { COMPRESS_SPEC, runCompress } from './cli/compress.js';
import { EVAL_SPEC, runEval } from './cli/eval.js';
import { REPORT_SPEC, runReport } from './cli/report.js';
import { runTrain, TRAIN_SPEC } from './cli/train.js';

interface Command {
  spec: CommandSpec;
  run(argv: readonly string[], io: CliIO): { help: boolean; result: () => number | Promise<number> };
}

function command<O extends OptionSpecs>(spec: CommandSpec<O>, run: (parsed: Parsed<O>, io: CliIO) => number | Promise<number>): Command {
  return {
    spec: spec as unknown as CommandSpec,
    run(argv, io) {
      const parsed = parseArgs(spec, argv);
      return { help: parsed.help, result: () => run(parsed, io) };
    },
  };
}

export const COMMANDS: Record<string, Command> = {
  train: command(TRAIN_SPEC, runTrain),
  eval: command(EVAL_SPEC, runEval),
  compress: command(COMPRESS_SPEC, runCompress),
  report: command(REPORT_SPEC, runReport),
  bench: command(BENCH_SPEC, runBench),
};

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function globalHelp(): string {
  const rows = Object.values(COMMANDS).map((c) => `  ${c.spec.name.padEnd(10)} ${c.spec.summary}`);
  return [
    'Usage: tuckergrad <command> [options]',
    '',
    'Train CNNs in low-rank Tucker form with ranks chosen by training (TDLRT), and the baselines beside it.',
    '',
    'Commands:',
    ...rows,
    '',
    'Run tuckergrad <command> --help for the options and examples of a command.',
    '',
    'Examples:',
    '  tuckergrad train --method tdlrt --tau 0.1 --epochs 5 --out runs/tdlrt',
    '  tuckergrad train --out runs/tdlrt --resume',
    '  tuckergrad eval runs/tdlrt/model.safetensors',
    '  tuckergrad train --method full --out runs/full && tuckergrad compress runs/full/model.safetensors --tol 0.3 --out runs/posthoc',
    '  tuckergrad report runs/tdlrt/model.safetensors',
    '  tuckergrad bench train-step -- --batch 64',
    '',
  ].join('\n');
}

/** Runs the CLI on `argv` (without node and the script); returns the exit code. */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const name = argv[0];
  try {
    if (name === undefined) {
      io.stderr.write(globalHelp());
      return 2;
    }
    if (name === '--help' || name === '-h' || (name === 'help' && argv.length === 1)) {
      io.stdout.write(globalHelp());
      return 0;
    }
    if (name === '--version' || name === '-V') {
      io.stdout.write(`tuckergrad ${version()}\n`);
      return 0;
    }
    if (name === 'help') {
      const cmd = COMMANDS[argv[1]];
      if (!cmd) throw new UsageError(`no command named '${argv[1]}' (commands: ${Object.keys(COMMANDS).join(', ')})`);
      io.stdout.write(formatHelp(cmd.spec));
      return 0;
    }
    const cmd = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (!cmd) {
      const hint = closest(name, Object.keys(COMMANDS));
      throw new UsageError(`unknown command '${name}'${hint ? ` (did you mean '${hint}'?)` : ''}; the commands are ${Object.keys(COMMANDS).join(', ')}`);
    }
    const { help, result } = cmd.run(argv.slice(1), io);
    if (help) {
      io.stdout.write(formatHelp(cmd.spec));
      return 0;
    }
    return await result();
  } catch (err) {
    const where = err instanceof UsageError && err.command ? `tuckergrad ${err.command}` : COMMANDS[name] ? `tuckergrad ${name}` : 'tuckergrad';
    if (err instanceof UsageError) {
      io.stderr.write(`${where}: error: ${err.message}\nRun '${where} --help' for usage.\n`);
      return 2;
    }
    const message = err instanceof Error ? err.message : String(err);
    io.stderr.write(`${where}: error: ${message}\n`);
    if (!(err instanceof CliError) && process.env.TUCKERGRAD_DEBUG && err instanceof Error) io.stderr.write(`${err.stack}\n`);
    return 1;
  }
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
