/**
 * Without an X display headless-gl has no context and gpu.js silently runs its kernels in
 * WebAssembly instead: the backend must notice, and 'auto' must say once that it runs on the CPU.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('GPU backend without a GL context', () => {
  it("'auto' picks the CPU and says so once; 'gpu' fails naming the missing display", () => {
    const env = { ...process.env };
    delete env.DISPLAY;
    const probe = fileURLToPath(new URL('./fallback-probe.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', probe], { env, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.auto).toMatchObject({ backend: 'cpu', mode: 'cpu' });
    expect(out.auto.reason).toMatch(/no GL context .*'(webasm|cpu)' mode/);
    expect(out.gpuError).toMatch(/xvfb-run/);
    const warnings = r.stderr.split('\n').filter((l) => l.includes('running on the CPU backend'));
    expect(warnings).toHaveLength(1);
  });
});
