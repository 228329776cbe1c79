import { describe, expect, it } from 'vitest';
import { closest, flagOf, formatHelp, parseArgs, parseKeyValues, UsageError, type CommandSpec } from '../../src/cli/args.js';
import { COMMANDS } from '../../src/cli.js';

const options = {
  epochs: { type: 'int', min: 1, default: 5, description: 'Epochs.' },
  lr: { type: 'number', min: 0, exclusiveMin: true, default: 0.05, description: 'Learning rate.' },
  tau: { type: 'number', min: 0, max: 1, description: 'Tolerance.' },
  method: { type: 'string', choices: () => ['full', 'tdlrt'], default: 'tdlrt', description: 'Method.' },
  out: { type: 'string', short: 'o', description: 'Output.' },
  resume: { type: 'boolean', description: 'Resume.' },
  eval: { type: 'boolean', default: true, description: 'Evaluate.' },
  opt: { type: 'list', description: 'Options.' },
  tol: { type: 'list', split: true, description: 'Tolerances.' },
} as const;
const spec: CommandSpec<typeof options> = {
  name: 'demo',
  summary: 'A demo command.',
  positionals: [{ name: 'file', description: 'A file.' }],
  options,
  examples: ['tuckergrad demo --epochs 3'],
  passthrough: 'ARGS',
};

describe('parseArgs', () => {
  it('applies defaults and records which options were given', () => {
    const p = parseArgs(spec, []);
    expect(p.options).toEqual({ epochs: 5, lr: 0.05, tau: undefined, method: 'tdlrt', out: undefined, resume: false, eval: true, opt: [], tol: [] });
    expect(p.given.size).toBe(0);
    expect(p.help).toBe(false);
  });

  it('reads --flag value, --flag=value, short flags, switches, --no-switch, lists and positionals', () => {
    const p = parseArgs(spec, [
      'f.st',
      '--epochs',
      '3',
      '--lr=1e-2',
      '-o',
      'runs/x',
      '--resume',
      '--no-eval',
      '--opt',
      'a=1',
      '--opt',
      'b=x',
      '--tol',
      '0.1,0.2',
      '--tol=0.3',
      '--method',
      'full',
    ]);
    expect(p.options).toMatchObject({
      epochs: 3,
      lr: 0.01,
      out: 'runs/x',
      resume: true,
      eval: false,
      opt: ['a=1', 'b=x'],
      tol: ['0.1', '0.2', '0.3'],
      method: 'full',
    });
    expect(p.positionals).toEqual(['f.st']);
    expect([...p.given].sort()).toEqual(['epochs', 'eval', 'lr', 'method', 'opt', 'out', 'resume', 'tol']);
  });

  it('passes on what follows --', () => {
    const p = parseArgs(spec, ['--epochs', '2', '--', '--batch', '64', 'x']);
    expect(p.rest).toEqual(['--batch', '64', 'x']);
    expect(p.options.epochs).toBe(2);
  });

  it('sees --help anywhere and then skips the positional checks', () => {
    expect(parseArgs(spec, ['a', 'b', 'c', '--help']).help).toBe(true);
    expect(parseArgs(spec, ['-h']).help).toBe(true);
  });

  const bad: [string[], RegExp][] = [
    [['--epoch', '3'], /unknown option --epoch \(did you mean --epochs\?\)/],
    [['--bogus'], /^unknown option --bogus$/],
    [['--epochs'], /--epochs needs a value/],
    [['--epochs', '--lr', '1'], /--epochs needs a value/],
    [['--epochs', '2.5'], /--epochs must be an integer, got '2.5'/],
    [['--epochs', 'three'], /--epochs must be an integer, got 'three'/],
    [['--epochs', '0'], /--epochs must be ≥ 1, got 0/],
    [['--lr', '0'], /--lr must be > 0, got 0/],
    [['--lr', '-0.1'], /--lr must be > 0, got -0.1/],
    [['--lr', '1e'], /--lr must be a number, got '1e'/],
    [['--lr', ''], /--lr must be a number, got ''/],
    [['--tau', '1.5'], /--tau must be ≤ 1, got 1.5/],
    [['--method', 'tdlr'], /--method must be one of full, tdlrt; got 'tdlr' \(did you mean 'tdlrt'\?\)/],
    [['--epochs', '2', '--epochs', '3'], /--epochs is given twice/],
    [['--no-epochs'], /unknown option --no-epochs/],
    [['--resume=maybe'], /--resume is a switch \(true\/false\), got 'maybe'/],
    [['a', 'b'], /unexpected argument 'b'/],
  ];
  it.each(bad)('rejects %j', (argv, message) => {
    expect(() => parseArgs(spec, argv)).toThrow(UsageError);
    expect(() => parseArgs(spec, argv)).toThrow(message);
  });

  it('needs required positionals and refuses -- where nothing is passed on', () => {
    const s2: CommandSpec = { name: 'x', summary: '', options: {}, examples: [], positionals: [{ name: 'checkpoint', description: '', required: true }] };
    expect(() => parseArgs(s2, [])).toThrow('missing checkpoint');
    expect(() => parseArgs(s2, ['a', '--'])).toThrow(/'--' is not accepted here/);
  });
});

describe('formatHelp', () => {
  it('lists every option with its flag, placeholder, default and choices, and the examples', () => {
    const text = formatHelp(spec as unknown as CommandSpec);
    expect(text).toContain('Usage: tuckergrad demo [file] [options] [-- ARGS]');
    for (const key of Object.keys(options)) expect(text).toContain(flagOf(key));
    expect(text).toContain('(default 5)');
    expect(text).toContain('One of: full, tdlrt.');
    expect(text).toContain('-o, --out VALUE');
    expect(text).toContain('--no-eval turns it off');
    expect(text).toContain('-h, --help');
    expect(text).toContain('tuckergrad demo --epochs 3');
  });

  it('every command has help with examples, and every option a description', () => {
    for (const c of Object.values(COMMANDS)) {
      expect(c.spec.examples.length).toBeGreaterThan(0);
      const text = formatHelp(c.spec);
      for (const [key, o] of Object.entries(c.spec.options)) {
        expect(o.description.length).toBeGreaterThan(5);
        expect(text).toContain(flagOf(key));
      }
      for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(200);
    }
  });
});

describe('helpers', () => {
  it('flagOf turns camelCase into kebab-case flags', () => {
    expect(flagOf('maxSteps')).toBe('--max-steps');
    expect(flagOf('lr')).toBe('--lr');
  });
  it('closest suggests only near misses', () => {
    expect(closest('trian', ['train', 'eval'])).toBe('train');
    expect(closest('zzzzzz', ['train', 'eval'])).toBeUndefined();
  });
  it('parseKeyValues converts numbers and booleans and names bad items', () => {
    expect(parseKeyValues(['a=1', 'b=true', 'c=x', 'd=1e-3'], '--opt')).toEqual({ a: 1, b: true, c: 'x', d: 0.001 });
    expect(() => parseKeyValues(['novalue'], '--opt')).toThrow("--opt takes key=value, got 'novalue'");
    expect(() => parseKeyValues(['1a=2'], '--opt')).toThrow(/key must be an identifier/);
  });
});
