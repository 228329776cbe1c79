/**
 * vitest globalSetup: headless-gl needs an X display. Where none is set and Xvfb is installed (CI
 * installs it), start one for the test run, so `npm test` alone runs the GPU kernels for real on
 * Mesa's software rasteriser. The forked test workers inherit DISPLAY.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

let xvfb: ChildProcess | undefined;

export async function setup(): Promise<void> {
  if (process.platform !== 'linux' || process.env.DISPLAY) return;
  if (spawnSync('sh', ['-c', 'command -v Xvfb'], { stdio: 'ignore' }).status !== 0) return;
  for (let n = 99; n < 120; n++) {
    if (existsSync(`/tmp/.X11-unix/X${n}`) || existsSync(`/tmp/.X${n}-lock`)) continue;
    const proc = spawn('Xvfb', [`:${n}`, '-screen', '0', '64x64x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !existsSync(`/tmp/.X11-unix/X${n}`) && proc.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
    if (proc.exitCode === null && existsSync(`/tmp/.X11-unix/X${n}`)) {
      xvfb = proc;
      process.env.DISPLAY = `:${n}`;
      process.env.TUCKERGRAD_TEST_XVFB = '1';
      return;
    }
    proc.kill();
  }
}

export async function teardown(): Promise<void> {
  xvfb?.kill();
}
