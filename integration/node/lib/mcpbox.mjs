// Shared helpers for the Node end-to-end tests: start `mcpbox up` the way the
// README does (fresh short data dir under /tmp, a free port), wait for
// `mcpbox status` to exit 0, run admin CLI commands, stop with SIGTERM.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, openSync, readFileSync, closeSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const BUILD_DIR = path.resolve(
  process.env.MCPBOX_BUILD_DIR || path.join(here, '..', '..', '..', 'build-test'));
export const MCPBOX = path.join(BUILD_DIR, 'bin', 'mcpbox');

export function childEnv() {
  return { ...process.env, MCPBOX_HEARTBEAT_MS: '250' };
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Run `mcpbox ARGS...` synchronously; returns {status, stdout, stderr}. */
export function mcpbox(args, { timeout = 30000, input } = {}) {
  const r = spawnSync(MCPBOX, args, { encoding: 'utf8', timeout, env: childEnv(), input });
  return { status: r.status, stdout: r.stdout || '', stderr: r.stderr || '', error: r.error };
}

/** Poll fn() until it returns a truthy value. */
export async function waitFor(fn, { timeout = 10000, interval = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await sleep(interval);
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}

/**
 * Start `mcpbox up --data-dir D --http-port P`; resolves once `mcpbox status`
 * exits 0. Returns {proc, dataDir, port, url, logPath, log(), stop()}.
 * conf: lines written to DATA/mcpbox.conf first (e.g. "remote_listen = ...").
 */
export async function startUp({ startupMs = 30000, conf = '' } = {}) {
  const dataDir = mkdtempSync('/tmp/mbn');
  if (conf) writeFileSync(path.join(dataDir, 'mcpbox.conf'), conf);
  const port = await freePort();
  const logPath = `${dataDir}.up.log`;
  const fd = openSync(logPath, 'w');
  const proc = spawn(MCPBOX, ['up', '--data-dir', dataDir, '--http-port', String(port)], {
    env: childEnv(), stdio: ['ignore', fd, fd], detached: true,
  });
  closeSync(fd);
  let exited = null;
  const exitPromise = new Promise((resolve) => proc.on('exit', (code, signal) => {
    exited = { code, signal };
    resolve(exited);
  }));
  const log = () => { try { return readFileSync(logPath, 'utf8'); } catch { return ''; } };
  const up = {
    proc, dataDir, port, logPath, log,
    url: `http://127.0.0.1:${port}/mcp`,
    get exited() { return exited; },
    /** SIGTERM; resolves to the exit code (null when killed by a signal). */
    async stop({ timeout = 15000 } = {}) {
      if (!exited) proc.kill('SIGTERM');
      const timer = setTimeout(() => { try { process.kill(-proc.pid, 'SIGKILL'); } catch {} }, timeout);
      const res = await exitPromise;
      clearTimeout(timer);
      return res;
    },
    /** Kill everything that is left and remove the data dir. */
    cleanup() {
      if (!exited) { try { process.kill(-proc.pid, 'SIGKILL'); } catch {} }
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(logPath, { force: true });
    },
  };
  try {
    await waitFor(() => {
      if (exited) throw new Error(`mcpbox up exited early (${JSON.stringify(exited)}):\n${log()}`);
      return mcpbox(['status', '--data-dir', dataDir], { timeout: 10000 }).status === 0;
    }, { timeout: startupMs, interval: 200, what: 'mcpbox status exit 0' });
  } catch (e) {
    up.cleanup();
    throw e;
  }
  return up;
}
