/**
 * Which createMethod options each training method reads, so that `train` can refuse a flag or an
 * --opt key that the chosen method would ignore without a word (`--tau` with `--method full`, or
 * the typo `--opt trpEnergyy=0.9`). Kept beside the CLI: it mirrors createMethod in
 * lowrank/methods/registry.ts, and a test checks the two agree.
 */
import { METHOD_NAMES, type MethodOptions } from '../lowrank/methods/registry.js';
import { closest, flagOf, UsageError } from './args.js';

type Key = keyof MethodOptions;

const SGD: readonly Key[] = ['lr', 'momentum', 'weightDecay'];
const ADAPTIVE: readonly Key[] = [...SGD, 'tau', 'maxRank', 'rankRatio', 'warmupEpochs', 'warmup', 'integrator'];
const BUDGETED: readonly Key[] = [...SGD, 'budget', 'ranks'];

export const METHOD_OPTION_KEYS: Readonly<Record<(typeof METHOD_NAMES)[number], readonly Key[]>> = {
  full: SGD,
  'tucker-fixed': BUDGETED,
  'matrix-fixed': BUDGETED,
  'dlrt-matrix': ADAPTIVE,
  tdlrt: ADAPTIVE,
  trp: [...SGD, 'trpEnergy', 'trpInterval', 'trpNuclear', 'trpReshaping'],
  lra: [...BUDGETED, 'lraInterval', 'convForm'],
  elrt: [...BUDGETED, 'orthoRegularizer', 'orthoLambda'],
  'post-hoc': [...BUDGETED, 'convForm'],
};

const ALL_KEYS = [...new Set(Object.values(METHOD_OPTION_KEYS).flat())];

/**
 * Throws a UsageError for an option the method does not read. `source(key)` says how the user gave
 * it (a flag such as `--tau`, or `--opt tau`).
 */
export function checkMethodOptions(method: string, options: Record<string, unknown>, source: (key: string) => string, command = 'train'): void {
  const known = Object.hasOwn(METHOD_OPTION_KEYS, method) ? METHOD_OPTION_KEYS[method as keyof typeof METHOD_OPTION_KEYS] : undefined;
  if (!known) throw new UsageError(`unknown method '${method}' (known: ${METHOD_NAMES.join(', ')})`, command);
  for (const key of Object.keys(options)) {
    if ((known as readonly string[]).includes(key)) continue;
    if (!(ALL_KEYS as string[]).includes(key)) {
      const hint = closest(key, ALL_KEYS);
      throw new UsageError(
        `${source(key)}: no training method has an option '${key}'${hint ? ` (did you mean '${hint}'?)` : ''}; method options: ${ALL_KEYS.join(', ')}`,
        command,
      );
    }
    const users = Object.entries(METHOD_OPTION_KEYS)
      .filter(([, keys]) => (keys as readonly string[]).includes(key))
      .map(([m]) => m);
    throw new UsageError(`${source(key)} does not apply to --method ${method}, which would ignore it (it applies to ${users.join(', ')})`, command);
  }
}

/** How a key reaches the method options: its own flag when it has one, else --opt. */
export function sourceOf(key: string, flags: readonly string[]): string {
  return flags.includes(key) ? flagOf(key) : `--opt ${key}`;
}
