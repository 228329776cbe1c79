import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonlLogger, readJsonl, readJsonlTolerant } from '../../src/io/jsonl.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tuckergrad-jsonl-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('JsonlLogger / readJsonl', () => {
  it('round-trips records, one line each, creating the directory', () => {
    const path = join(dir, 'runs', 'a', 'log.jsonl');
    const log = new JsonlLogger(path);
    const records = [
      { step: 0, loss: 2.3, ranks: [6, 6, 3, 3] },
      { step: 1, loss: 1.9, note: 'line\nbreak "quoted"', nested: { ok: true } },
      { step: 2, loss: null },
    ];
    for (const r of records) log.log(r);
    expect(readFileSync(path, 'utf8').split('\n')).toHaveLength(4);
    expect(readJsonl(path)).toEqual(records);
  });

  it('appends by default and starts over with truncate', () => {
    const path = join(dir, 'log.jsonl');
    new JsonlLogger(path).log({ a: 1 });
    new JsonlLogger(path).log({ a: 2 });
    expect(readJsonl(path)).toEqual([{ a: 1 }, { a: 2 }]);
    new JsonlLogger(path, { truncate: true }).log({ a: 3 });
    expect(readJsonl(path)).toEqual([{ a: 3 }]);
  });

  it('writes non-finite numbers as null and rejects what JSON cannot hold', () => {
    const path = join(dir, 'log.jsonl');
    const log = new JsonlLogger(path);
    log.log({ loss: NaN, big: Infinity });
    expect(readJsonl(path)).toEqual([{ loss: null, big: null }]);
    expect(() => log.log(undefined)).toThrow(/must be a JSON value/);
    expect(() => log.log({ n: 1n })).toThrow(/not serialisable/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => log.log(cyclic)).toThrow(/log\.jsonl\)\.log: record is not serialisable/);
  });

  it('skips blank lines and accepts CRLF', () => {
    const path = join(dir, 'crlf.jsonl');
    writeFileSync(path, '{"a":1}\r\n\r\n  \n{"a":2}\r\n');
    expect(readJsonl(path)).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('names the file and line number of a bad line', () => {
    const path = join(dir, 'bad.jsonl');
    writeFileSync(path, '{"a":1}\n\n{"a":2}\n{"a": oops}\n');
    expect(() => readJsonl(path)).toThrow(/readJsonl: .*bad\.jsonl:4: invalid JSON .*\{"a": oops\}/);
    // A record cut short by a crash mid-append is a bad line too.
    const cut = join(dir, 'cut.jsonl');
    new JsonlLogger(cut).log({ a: 1 });
    appendFileSync(cut, '{"a":');
    expect(() => readJsonl(cut)).toThrow(/cut\.jsonl:2:/);
  });

  it('names a missing file', () => {
    expect(() => readJsonl(join(dir, 'nope.jsonl'))).toThrow(/readJsonl: cannot read .*nope\.jsonl/);
  });

  it('property: any JSON values round-trip', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { maxLength: 20 }), (values) => {
        const path = join(dir, 'prop.jsonl');
        const log = new JsonlLogger(path, { truncate: true });
        for (const v of values) log.log(v);
        // JSON itself does not keep -0: compare with what JSON makes of the values.
        expect(readJsonl(path)).toEqual(values.map((v) => JSON.parse(JSON.stringify(v))));
      }),
      { seed: 7, numRuns: 100 },
    );
  });

  // Issue #19, defect 6: a half-written last line (a process stopped mid-append) blocked --resume.
  it('readJsonlTolerant drops a torn last line and returns it; damage elsewhere still throws', () => {
    const path = join(dir, 'torn.jsonl');
    writeFileSync(path, '{"a":1}\n{"a":2}\n{"a":3,"b');
    expect(readJsonlTolerant(path)).toEqual({ records: [{ a: 1 }, { a: 2 }], torn: '{"a":3,"b' });
    expect(() => readJsonl(path)).toThrow(/torn\.jsonl:3: invalid JSON/);
    writeFileSync(path, '{"a":1}\n{"a":2}\n');
    expect(readJsonlTolerant(path)).toEqual({ records: [{ a: 1 }, { a: 2 }], torn: null });
    // A complete (newline-terminated) bad line is damage, not an interrupted append.
    writeFileSync(path, '{"a":1}\n{"a":\n');
    expect(() => readJsonlTolerant(path)).toThrow(/torn\.jsonl:2: invalid JSON/);
    writeFileSync(path, '{"a":\n{"a":2}');
    expect(() => readJsonlTolerant(path)).toThrow(/torn\.jsonl:1: invalid JSON/);
  });

  // Issue #19, defects 5 and 6: a log.jsonl replaced by a FIFO blocked `train --resume` and `report`
  // forever, and one linked to /dev/zero read without end.
  it('a log that is a FIFO or a device is refused at once', { timeout: 10_000 }, () => {
    const fifo = join(dir, 'fifo.jsonl');
    execFileSync('mkfifo', [fifo]);
    expect(() => readJsonlTolerant(fifo)).toThrow(`readJsonl: cannot read ${fifo}: log ${fifo} is not a regular file (it is a FIFO)`);
    const zero = join(dir, 'zero.jsonl');
    symlinkSync('/dev/zero', zero);
    expect(() => readJsonl(zero)).toThrow(`readJsonl: cannot read ${zero}: log ${zero} is not a regular file (it is a device)`);
  });
});
