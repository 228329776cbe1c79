/**
 * Builds the in-browser training page and serves it on 127.0.0.1 only, with a tiny node:http
 * static server (no dependency). Cross-origin isolation headers (COOP/COEP) are sent so that the
 * page and its worker get SharedArrayBuffer, which the CPU backend allocates large tensors on.
 *
 *   npm run web:serve [-- --port 8080] [-- --no-build] [-- --dir examples/web/dist]
 */
import { constants, realpathSync } from 'node:fs';
import { open, realpath, type FileHandle } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildWeb, WEB_DIST } from './web-build.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.bin': 'application/octet-stream',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
};

/** Serves `dir` on 127.0.0.1:`port` (0: any free port). Resolves once listening. */
export function serveStatic(dir: string, port = 8080): Promise<{ server: Server; url: string }> {
  const root = resolve(dir);
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch (err) {
    return Promise.reject(new Error(`serveStatic: cannot serve ${dir}: ${(err as Error).message}`));
  }
  const server = createServer((req, res) => {
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cache-Control': 'no-store',
      // Browsers must take the Content-Type as given, not guess one from the bytes.
      'X-Content-Type-Options': 'nosniff',
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...headers, Allow: 'GET, HEAD' }).end();
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      res.writeHead(400, headers).end('bad request');
      return;
    }
    if (path.endsWith('/')) path += 'index.html';
    const file = normalize(join(root, path));
    if (!isInside(root, file)) {
      res.writeHead(403, headers).end('forbidden');
      return;
    }
    void sendFile(realRoot, file, path, req.method === 'HEAD', res, headers);
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: actual } = server.address() as AddressInfo;
      resolvePromise({ server, url: `http://127.0.0.1:${actual}/` });
    });
  });
}

const isInside = (root: string, file: string) => file === root || file.startsWith(root + sep);

/**
 * Sends one file: its real path (symlinks resolved) must still be under the served root, it must be
 * a regular file, and a read error answers 500 (or ends the response if the headers went out)
 * instead of reaching the process as an unhandled 'error' event, which stopped the server.
 */
async function sendFile(realRoot: string, file: string, shown: string, headOnly: boolean, res: ServerResponse, headers: Record<string, string>): Promise<void> {
  const text = { ...headers, 'Content-Type': 'text/plain; charset=utf-8' };
  let real: string;
  try {
    real = await realpath(file);
  } catch {
    res.writeHead(404, text).end(`not found: ${shown}`);
    return;
  }
  if (!isInside(realRoot, real)) {
    res.writeHead(403, text).end('forbidden');
    return;
  }
  let handle: FileHandle;
  try {
    handle = await open(real, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') res.writeHead(404, text).end(`not found: ${shown}`);
    else res.writeHead(500, text).end('cannot read the file');
    return;
  }
  let size: number;
  try {
    const st = await handle.stat();
    if (!st.isFile()) {
      await handle.close();
      res.writeHead(404, text).end(`not found: ${shown}`);
      return;
    }
    size = st.size;
  } catch {
    await handle.close().catch(() => undefined);
    res.writeHead(500, text).end('cannot read the file');
    return;
  }
  if (headOnly) {
    await handle.close();
    res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(real)] ?? 'application/octet-stream', 'Content-Length': size }).end();
    return;
  }
  const stream = handle.createReadStream();
  stream.once('error', () => {
    if (!res.headersSent) res.writeHead(500, text).end('cannot read the file');
    else res.destroy();
  });
  // Headers go out with the first chunk, so a file that fails on its first read still gets a 500.
  let started = false;
  stream.on('data', (chunk) => {
    if (!started) {
      started = true;
      res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(real)] ?? 'application/octet-stream', 'Content-Length': size });
    }
    if (!res.write(chunk)) {
      stream.pause();
      res.once('drain', () => stream.resume());
    }
  });
  stream.once('end', () => {
    if (!started) res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(real)] ?? 'application/octet-stream', 'Content-Length': size });
    res.end();
  });
  res.once('close', () => stream.destroy());
}

/** One line for a port that cannot be had, instead of a stack trace. */
export function listenErrorLine(err: NodeJS.ErrnoException, port: number): string {
  if (err.code === 'EADDRINUSE') return `web-serve: port ${port} is busy (another server listens there); pass --port N, or --port 0 for any free port`;
  if (err.code === 'EACCES') return `web-serve: port ${port} needs privileges this user lacks; pass --port N above 1023`;
  return `web-serve: cannot listen on 127.0.0.1:${port}: ${err.message}`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const value = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const rawPort = value('port') ?? process.env.PORT ?? '8080';
  const port = /^\d+$/.test(rawPort) ? Number(rawPort) : Number.NaN;
  const dir = value('dir') ?? WEB_DIST;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`web-serve: --port must be an integer in [0, 65535], got '${rawPort}'`);
    process.exitCode = 2;
  } else {
    try {
      if (!args.includes('--no-build')) {
        const r = await buildWeb({ outDir: dir });
        console.log(`web-serve: built ${dir} in ${r.ms.toFixed(0)} ms`);
      }
      const { url } = await serveStatic(dir, port);
      console.log(`web-serve: serving ${dir} at ${url} (127.0.0.1 only; Ctrl-C stops)`);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      console.error(e.syscall === 'listen' ? listenErrorLine(e, port) : `web-serve: ${e.message}`);
      process.exitCode = 1;
    }
  }
}
