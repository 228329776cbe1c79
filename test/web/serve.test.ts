/**
 * The static server of `npm run web:serve` (scripts/web-serve.ts), as a careless or hostile client
 * would use it (issue #19, defect 4): a file that cannot be read answers 500 and the server keeps
 * serving; a symlink inside the served folder that leads outside it is refused; every answer
 * carries nosniff; a busy port is one clear line.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// Reads of files named broken-open.* fail at open (as EACCES does for a user without the right),
// reads of broken-read.* fail after open (as an I/O error does): both used to reach the process as
// an unhandled 'error' event of the ReadStream, which stopped the server.
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const open: typeof real.open = async (path, ...rest) => {
    const p = String(path);
    if (p.includes('broken-open')) throw Object.assign(new Error(`EACCES: permission denied, open '${p}'`), { code: 'EACCES' });
    const handle = await real.open(path, ...rest);
    if (!p.includes('broken-read')) return handle;
    return Object.assign(Object.create(handle), {
      stat: () => handle.stat(),
      close: () => handle.close(),
      createReadStream: () => {
        void handle.close();
        return new Readable({
          read() {
            this.destroy(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' }));
          },
        });
      },
    });
  };
  return { ...real, open, default: { ...real, open } };
});

const { listenErrorLine, serveStatic } = await import('../../scripts/web-serve.js');

let root: string;
let outside: string;
let server: Server;
let url: string;
beforeAll(async () => {
  const base = mkdtempSync(join(tmpdir(), 'tuckergrad-serve-'));
  root = join(base, 'site');
  outside = join(base, 'secret.txt');
  mkdirSync(root);
  writeFileSync(join(root, 'index.html'), '<p>hello</p>');
  writeFileSync(join(root, 'broken-open.js'), 'x');
  writeFileSync(join(root, 'broken-read.js'), 'x');
  writeFileSync(outside, 'private');
  symlinkSync(outside, join(root, 'leak.txt'));
  symlinkSync(join(root, 'index.html'), join(root, 'alias.html'));
  ({ server, url } = await serveStatic(root, 0));
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(join(root, '..'), { recursive: true, force: true });
});

describe('serveStatic', () => {
  it('answers 500 for a file that cannot be opened or read, and keeps serving', async () => {
    for (const f of ['broken-open.js', 'broken-read.js']) {
      const r = await fetch(`${url}${f}`);
      expect(r.status, f).toBe(500);
      expect(await r.text()).toBe('cannot read the file');
    }
    const ok = await fetch(url);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('<p>hello</p>');
  });

  it('refuses a symlink that leads outside the served folder; one inside it is served', async () => {
    const leak = await fetch(`${url}leak.txt`);
    expect(leak.status).toBe(403);
    expect(await leak.text()).not.toContain('private');
    const alias = await fetch(`${url}alias.html`);
    expect(alias.status).toBe(200);
    expect(await alias.text()).toBe('<p>hello</p>');
  });

  it('sends X-Content-Type-Options: nosniff with files and with errors', async () => {
    for (const path of ['', 'missing.js', 'leak.txt', 'broken-open.js']) {
      expect((await fetch(`${url}${path}`)).headers.get('x-content-type-options'), path).toBe('nosniff');
    }
  });

  it('a busy port is one clear line', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const err = await serveStatic(root, port).then(
        () => null,
        (e: NodeJS.ErrnoException) => e,
      );
      expect(err?.code).toBe('EADDRINUSE');
      const line = listenErrorLine(err as NodeJS.ErrnoException, port);
      expect(line).toBe(`web-serve: port ${port} is busy (another server listens there); pass --port N, or --port 0 for any free port`);
      expect(line).not.toContain('\n');
    } finally {
      blocker.close();
    }
  });

  it('a port this user may not take, and any other listen error, are one clear line each', () => {
    const denied = Object.assign(new Error('listen EACCES: permission denied 127.0.0.1:80'), { code: 'EACCES', syscall: 'listen' });
    expect(listenErrorLine(denied, 80)).toBe('web-serve: port 80 needs privileges this user lacks; pass --port N above 1023');
    const other = Object.assign(new Error('listen EADDRNOTAVAIL: address not available'), { code: 'EADDRNOTAVAIL', syscall: 'listen' });
    expect(listenErrorLine(other, 8080)).toBe('web-serve: cannot listen on 127.0.0.1:8080: listen EADDRNOTAVAIL: address not available');
  });
});
