/**
 * Command-line parsing without dependencies: each command declares typed option specs, from which
 * both the parser and the --help text are generated. Option keys are camelCase; their flags are
 * kebab-case (`maxSteps` ↔ `--max-steps`). Accepted forms: `--name value`, `--name=value`,
 * `--flag` / `--no-flag` for booleans, repeatable options, positionals, and `--` to pass the rest on.
 */

/** A usage mistake (unknown flag, bad value): exit code 2 and a pointer to --help. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

interface BaseOption {
  description: string;
  /** Shown after the flag in --help (default from the type: N, X, NAME, DIR...). */
  placeholder?: string;
  /** A one-letter alias (`-o`). */
  short?: string;
}
export interface StringOption extends BaseOption {
  type: 'string';
  default?: string;
  /** Allowed values; a function is read at parse time (e.g. the method registry). */
  choices?: readonly string[] | (() => readonly string[]);
}
export interface IntOption extends BaseOption {
  type: 'int';
  default?: number;
  min?: number;
  max?: number;
}
export interface NumberOption extends BaseOption {
  type: 'number';
  default?: number;
  min?: number;
  max?: number;
  /** The lower bound is excluded (e.g. a learning rate must be > 0). */
  exclusiveMin?: boolean;
  /** The upper bound is excluded (e.g. momentum must be < 1). */
  exclusiveMax?: boolean;
}
export interface BooleanOption extends BaseOption {
  type: 'boolean';
  default?: boolean;
}
/** May be given several times; the values are collected in order (each may also be comma-separated when `split` is set). */
export interface ListOption extends BaseOption {
  type: 'list';
  split?: boolean;
}
export type OptionSpec = StringOption | IntOption | NumberOption | BooleanOption | ListOption;
export type OptionSpecs = Record<string, OptionSpec>;

export interface PositionalSpec {
  name: string;
  description: string;
  required?: boolean;
  /** Takes every remaining positional. */
  variadic?: boolean;
}

export interface CommandSpec<O extends OptionSpecs = OptionSpecs> {
  name: string;
  summary: string;
  /** Longer text shown under the usage line. */
  description?: string;
  positionals?: readonly PositionalSpec[];
  options: O;
  examples: readonly string[];
  /** Accept arguments after `--` (passed on untouched). */
  passthrough?: string;
}

type ValueOf<S extends OptionSpec> = S extends BooleanOption
  ? boolean
  : S extends ListOption
    ? string[]
    : S extends IntOption | NumberOption
      ? S extends { default: number }
        ? number
        : number | undefined
      : S extends { default: string }
        ? string
        : string | undefined;

export type OptionValues<O extends OptionSpecs> = { -readonly [K in keyof O]: ValueOf<O[K]> };

export interface Parsed<O extends OptionSpecs> {
  options: OptionValues<O>;
  /** Option keys the user gave explicitly (not defaults). */
  given: Set<keyof O & string>;
  positionals: string[];
  /** Arguments after `--`. */
  rest: string[];
  help: boolean;
}

export const HELP_OPTION = { type: 'boolean', short: 'h', description: 'Show this help and exit.' } as const satisfies BooleanOption;

export function flagOf(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function choicesOf(spec: StringOption): readonly string[] | undefined {
  return typeof spec.choices === 'function' ? spec.choices() : spec.choices;
}

const NUMBER_RE = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

/** Parses one option value; the error names the flag and shows what it got. */
export function convertValue(key: string, spec: OptionSpec, raw: string, command?: string): string | number | boolean {
  const flag = flagOf(key);
  switch (spec.type) {
    case 'string': {
      const choices = choicesOf(spec);
      if (choices && !choices.includes(raw)) {
        const hint = closest(raw, choices);
        throw new UsageError(`${flag} must be one of ${choices.join(', ')}; got '${raw}'${hint ? ` (did you mean '${hint}'?)` : ''}`, command);
      }
      if (raw === '') throw new UsageError(`${flag} needs a non-empty value`, command);
      return raw;
    }
    case 'int':
    case 'number': {
      const trimmed = raw.trim();
      const n = NUMBER_RE.test(trimmed) ? Number(trimmed) : NaN;
      if (!Number.isFinite(n)) throw new UsageError(`${flag} must be ${spec.type === 'int' ? 'an integer' : 'a number'}, got '${raw}'`, command);
      if (spec.type === 'int' && !Number.isSafeInteger(n)) throw new UsageError(`${flag} must be an integer, got '${raw}'`, command);
      if (spec.min !== undefined) {
        const excl = spec.type === 'number' && spec.exclusiveMin === true;
        if (excl ? !(n > spec.min) : !(n >= spec.min)) throw new UsageError(`${flag} must be ${excl ? '>' : '≥'} ${spec.min}, got ${raw}`, command);
      }
      if (spec.max !== undefined) {
        const excl = spec.type === 'number' && spec.exclusiveMax === true;
        if (excl ? !(n < spec.max) : !(n <= spec.max)) throw new UsageError(`${flag} must be ${excl ? '<' : '≤'} ${spec.max}, got ${raw}`, command);
      }
      return n;
    }
    case 'boolean': {
      const v = raw.toLowerCase();
      if (['true', 'yes', '1', 'on'].includes(v)) return true;
      if (['false', 'no', '0', 'off'].includes(v)) return false;
      throw new UsageError(`${flag} is a switch (true/false), got '${raw}'`, command);
    }
    case 'list':
      return raw;
  }
}

/** Parses argv against a command spec. Throws UsageError on any mistake. */
export function parseArgs<O extends OptionSpecs>(spec: CommandSpec<O>, argv: readonly string[]): Parsed<O> {
  const cmd = spec.name;
  const byFlag = new Map<string, string>();
  const byShort = new Map<string, string>();
  for (const [key, o] of Object.entries(spec.options)) {
    byFlag.set(flagOf(key), key);
    if (o.short) byShort.set(`-${o.short}`, key);
  }
  const values: Record<string, unknown> = {};
  const given = new Set<string>();
  const positionals: string[] = [];
  let rest: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      if (!spec.passthrough) throw new UsageError(`'--' is not accepted here (this command takes no pass-through arguments)`, cmd);
      rest = argv.slice(i + 1);
      break;
    }
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (arg.startsWith('-') && arg !== '-' && !NUMBER_RE.test(arg)) {
      const eq = arg.indexOf('=');
      const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
      const inline = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : undefined;
      let key = byFlag.get(name) ?? byShort.get(name);
      let negated = false;
      if (key === undefined && name.startsWith('--no-')) {
        const k = byFlag.get(`--${name.slice(5)}`);
        if (k !== undefined && spec.options[k].type === 'boolean') {
          key = k;
          negated = true;
        }
      }
      if (key === undefined) {
        const hint = closest(name, [...byFlag.keys(), '--help']);
        throw new UsageError(`unknown option ${name}${hint ? ` (did you mean ${hint}?)` : ''}`, cmd);
      }
      const o = spec.options[key];
      if (o.type === 'boolean') {
        if (negated && inline !== undefined) throw new UsageError(`${name} takes no value`, cmd);
        values[key] = negated ? false : inline === undefined ? true : convertValue(key, o, inline, cmd);
        given.add(key);
        continue;
      }
      let raw = inline;
      if (raw === undefined) {
        const next = argv[i + 1];
        if (next === undefined || (next.startsWith('--') && next.length > 2))
          throw new UsageError(`${flagOf(key)} needs a value${o.placeholder ? ` (${o.placeholder})` : ''}`, cmd);
        raw = next;
        i++;
      }
      if (o.type === 'list') {
        const list = (values[key] as string[] | undefined) ?? [];
        const parts = o.split
          ? raw
              .split(',')
              .map((s) => s.trim())
              .filter((s) => s !== '')
          : [raw];
        if (parts.length === 0) throw new UsageError(`${flagOf(key)} needs a non-empty value`, cmd);
        list.push(...parts);
        values[key] = list;
      } else {
        if (given.has(key)) throw new UsageError(`${flagOf(key)} is given twice`, cmd);
        values[key] = convertValue(key, o, raw, cmd);
      }
      given.add(key);
      continue;
    }
    positionals.push(arg);
  }
  for (const [key, o] of Object.entries(spec.options)) {
    if (key in values) continue;
    if (o.type === 'boolean') values[key] = o.default ?? false;
    else if (o.type === 'list') values[key] = [];
    else values[key] = o.default;
  }
  if (!help) {
    const pos = spec.positionals ?? [];
    const variadic = pos.some((p) => p.variadic);
    const required = pos.filter((p) => p.required);
    if (positionals.length < required.length) {
      throw new UsageError(
        `missing ${required
          .slice(positionals.length)
          .map((p) => p.name)
          .join(', ')}`,
        cmd,
      );
    }
    if (!variadic && positionals.length > pos.length) {
      const extra = positionals.slice(pos.length);
      throw new UsageError(
        `unexpected argument${extra.length > 1 ? 's' : ''} ${extra.map((a) => `'${a}'`).join(' ')}${pos.length === 0 ? ' (this command takes only options)' : ''}`,
        cmd,
      );
    }
  }
  return { options: values as OptionValues<O>, given: given as Set<keyof O & string>, positionals, rest, help };
}

/** The --help text of a command, generated from its spec. */
export function formatHelp(spec: CommandSpec, program = 'tuckergrad'): string {
  const pos = (spec.positionals ?? []).map((p) => (p.required ? `<${p.name}>` : `[${p.name}]`) + (p.variadic ? '...' : ''));
  const lines = [
    `Usage: ${program} ${spec.name}${pos.length ? ` ${pos.join(' ')}` : ''} [options]${spec.passthrough ? ` [-- ${spec.passthrough}]` : ''}`,
    '',
    spec.summary,
  ];
  if (spec.description) lines.push('', ...spec.description.split('\n'));
  if (spec.positionals?.length) {
    lines.push('', 'Arguments:');
    for (const p of spec.positionals) lines.push(...wrapRow(`  ${p.name}`, p.description));
  }
  lines.push('', 'Options:');
  const entries: [string, OptionSpec][] = [...Object.entries(spec.options), ['help', HELP_OPTION]];
  for (const [key, o] of entries) {
    const flag = flagOf(key);
    const short = o.short ? `-${o.short}, ` : '    ';
    let left = `  ${short}${flag}`;
    if (o.type !== 'boolean') left += ` ${o.placeholder ?? defaultPlaceholder(o)}`;
    let text = o.description;
    if (o.type === 'string') {
      const choices = choicesOf(o);
      if (choices) text += ` One of: ${choices.join(', ')}.`;
    }
    if (o.type === 'boolean' && key !== 'help') text += o.default ? ` (default on; --no-${flag.slice(2)} turns it off)` : '';
    if (o.type !== 'boolean' && o.type !== 'list' && o.default !== undefined) text += ` (default ${o.default})`;
    if (o.type === 'list') text += ' Repeatable.';
    lines.push(...wrapRow(left, text));
  }
  if (spec.examples.length) {
    lines.push('', 'Examples:');
    for (const e of spec.examples) lines.push(`  ${e}`);
  }
  return lines.join('\n') + '\n';
}

function defaultPlaceholder(o: OptionSpec): string {
  if (o.type === 'int') return 'N';
  if (o.type === 'number') return 'X';
  if (o.type === 'list') return 'VALUE';
  if (o.type === 'string' && o.choices) return 'NAME';
  return 'VALUE';
}

const COLUMN = 30;
const WIDTH = 100;
function wrapRow(left: string, text: string): string[] {
  const words = text.split(/\s+/).filter(Boolean);
  const out: string[] = [];
  let line = left.length >= COLUMN ? left + '\n' + ' '.repeat(COLUMN) : left.padEnd(COLUMN);
  let lineLen = line.length - line.lastIndexOf('\n') - 1;
  for (const w of words) {
    if (lineLen + w.length + 1 > WIDTH && lineLen > COLUMN) {
      out.push(line.trimEnd());
      line = ' '.repeat(COLUMN);
      lineLen = COLUMN;
    }
    line += (lineLen > COLUMN ? ' ' : '') + w;
    lineLen += (lineLen > COLUMN ? 1 : 0) + w.length;
  }
  out.push(line.trimEnd());
  return out.join('\n').split('\n');
}

/** The candidate closest to `word` by edit distance, when it is close enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

/** Parses `key=value` pairs (method options given with --opt): numbers, booleans and JSON objects/arrays are converted. */
export function parseKeyValues(items: readonly string[], flag: string, command?: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`${flag} takes key=value, got '${item}'`, command);
    const k = item.slice(0, eq).trim();
    const v = item.slice(eq + 1).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new UsageError(`${flag}: key must be an identifier (camelCase option name), got '${k}'`, command);
    if (v.startsWith('{') || v.startsWith('[')) {
      try {
        out[k] = JSON.parse(v) as string;
      } catch (err) {
        throw new UsageError(`${flag} ${k}: the value looks like JSON but does not parse (${(err as Error).message})`, command);
      }
      continue;
    }
    out[k] = NUMBER_RE.test(v) ? Number(v) : v === 'true' ? true : v === 'false' ? false : v;
  }
  return out;
}
