/**
 * The CLI's table of the options each method reads (src/cli/method-options.ts) must agree with
 * createMethod in lowrank/methods/registry.ts, which it mirrors: read from the registry's source,
 * each `case` reads `options.<key>` directly, through `sgd` (lr, momentum, weightDecay) or through
 * `adaptive()`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkMethodOptions, METHOD_OPTION_KEYS } from '../../src/cli/method-options.js';
import { METHOD_NAMES } from '../../src/lowrank/methods/registry.js';

const source = readFileSync(new URL('../../src/lowrank/methods/registry.ts', import.meta.url), 'utf8');
const body = source.slice(source.indexOf('export function createMethod'));
const keysIn = (text: string) => [...text.matchAll(/options\.(\w+)/g)].map((m) => m[1]);
const sgdKeys = keysIn(/const sgd = \{[^}]*\}/.exec(body)?.[0] ?? '');
const adaptiveText = /const adaptive = [\s\S]*?\n {2}\}\);/.exec(body)?.[0] ?? '';
const adaptiveKeys = [...keysIn(adaptiveText), ...(/\.\.\.sgd\b/.test(adaptiveText) ? sgdKeys : [])];

function readByCase(name: string): string[] {
  const start = body.indexOf(`case '${name}':`);
  const end = body.indexOf('case ', start + 6);
  const text = body.slice(start, end < 0 ? undefined : end);
  const keys = new Set(keysIn(text));
  if (/\.\.\.sgd\b/.test(text) || /\(sgd\)/.test(text)) for (const k of sgdKeys) keys.add(k);
  if (/adaptive\(\)/.test(text)) for (const k of adaptiveKeys) keys.add(k);
  return [...keys].sort();
}

describe('METHOD_OPTION_KEYS', () => {
  it('the registry source is read as expected', () => {
    expect(sgdKeys).toEqual(['lr', 'momentum', 'weightDecay']);
    expect(adaptiveKeys).toContain('integrator');
  });

  it.each(METHOD_NAMES.map((m) => [m]))('%s: the table lists exactly the options createMethod reads', (name) => {
    expect([...METHOD_OPTION_KEYS[name]].sort()).toEqual(readByCase(name));
  });

  it("checkMethodOptions accepts the method's own keys and names the methods of another's", () => {
    expect(() => checkMethodOptions('trp', { trpEnergy: 0.9, lr: 0.1 }, (k) => `--opt ${k}`)).not.toThrow();
    expect(() => checkMethodOptions('full', { budget: 0.1 }, () => '--budget')).toThrow(
      '--budget does not apply to --method full, which would ignore it (it applies to tucker-fixed, matrix-fixed, lra, elrt, post-hoc)',
    );
  });
});
