// Starts the Rathaus server (demo mode) for the browser tests.
//
// Env:
//   RATHAUS_BASE_URL      use an already running server, start nothing
//   RATHAUS_BIN           server binary (default: ../target/debug/rathaus)
//   RATHAUS_DATABASE_URL  passed through to the server if set
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BROWSER_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const READY_TIMEOUT_MS = 60_000;
const URL_RE = /http:\/\/127\.0\.0\.1:\d+/;

function defaultBin() {
  return path.resolve(BROWSER_DIR, '..', 'target', 'debug', 'rathaus');
}

/**
 * @param {{ env?: Record<string, string> }} [options]
 *   env: extra environment variables for the server (e.g. RATHAUS_IDENTITY__UPSTREAM__ISSUER);
 *   they override the inherited environment. Ignored when RATHAUS_BASE_URL is set.
 * @returns {Promise<{ baseUrl: string, stop: () => Promise<void> }>}
 *   baseUrl has no trailing slash, e.g. "http://127.0.0.1:41234".
 */
export async function startServer(options = {}) {
  if (process.env.RATHAUS_BASE_URL) {
    const baseUrl = process.env.RATHAUS_BASE_URL.replace(/\/+$/, '');
    return { baseUrl, stop: async () => {} };
  }

  const bin = process.env.RATHAUS_BIN
    ? path.resolve(BROWSER_DIR, process.env.RATHAUS_BIN)
    : defaultBin();
  if (!existsSync(bin)) {
    throw new Error(
      `Rathaus binary not found at ${bin}. Build it (cargo build) or set ` +
        `RATHAUS_BIN, or point RATHAUS_BASE_URL at a running server.`,
    );
  }

  const dataDir = await mkdtemp(path.join(tmpdir(), 'rathaus-browser-'));
  const env = { ...process.env };
  // RATHAUS_DATABASE_URL is inherited as is when set; make sure an empty one
  // does not override the server's default.
  if (!env.RATHAUS_DATABASE_URL) delete env.RATHAUS_DATABASE_URL;
  // The demo imports the service catalogue from the shared test data beside the repository.
  if (!env.RATHAUS_CATALOG_DIR) {
    env.RATHAUS_CATALOG_DIR = path.resolve(BROWSER_DIR, '..', '..', 'shared', 'testdata', 'ozg-leika');
  }
  Object.assign(env, options.env);

  const args = ['demo', '--listen', '127.0.0.1:0', '--data-dir', dataDir];
  const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });

  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    if (process.env.RATHAUS_SERVER_LOG) process.stderr.write(chunk);
  });
  child.stdout.setEncoding('utf8');

  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });

  const cleanup = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killTimer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killTimer);
    }
    await rm(dataDir, { recursive: true, force: true });
  };

  let baseUrl;
  try {
    baseUrl = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(
            `Rathaus server did not print its URL within ${READY_TIMEOUT_MS / 1000} s.\n` +
              `command: ${bin} ${args.join(' ')}\nstdout:\n${stdout}\nstderr:\n${stderr}`,
          ),
        );
      }, READY_TIMEOUT_MS);
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
        if (process.env.RATHAUS_SERVER_LOG) process.stderr.write(chunk);
        const m = URL_RE.exec(stdout);
        if (m) {
          clearTimeout(timer);
          resolve(m[0]);
        }
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`could not start ${bin}: ${err.message}`));
      });
      exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(
          new Error(
            `Rathaus server exited before it was ready (code ${code}, signal ${signal}).\n` +
              `command: ${bin} ${args.join(' ')}\nstdout:\n${stdout}\nstderr:\n${stderr}`,
          ),
        );
      });
    });
  } catch (err) {
    await cleanup();
    throw err;
  }

  // Keep draining stdout so the server never blocks on a full pipe.
  child.stdout.on('data', () => {});

  let stopped = false;
  return {
    baseUrl,
    async stop() {
      if (stopped) return;
      stopped = true;
      await cleanup();
    },
  };
}
