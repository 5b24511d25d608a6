// Starts a real `papo serve` on a free port with a throw-away data folder.
//
//   PAPO_BIN      the binary (default ../target/debug/papo, relative to web/)
//   CHROMIUM_PATH the browser for the tests (default /usr/bin/chromium)

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const repoDir = path.resolve(webDir, '..');

export function papoBinary() {
  return path.resolve(webDir, process.env.PAPO_BIN || '../target/debug/papo');
}

const LISTENING = /papo: listening on (http:\/\/\S+)/;

/**
 * Spawns `papo serve` (PAPO_LISTEN=127.0.0.1:0, fresh PAPO_DATA_DIR) from the
 * repository root, so that it finds web/dist, and waits for its
 * "papo: listening on http://…" line.
 *
 * @param {{ timeoutMs?: number, env?: Record<string, string> }} [options]
 * @returns {Promise<{ url: string, pid: number, stop: () => Promise<void>, logs: () => string }>}
 */
export async function startPapo({ timeoutMs = 30_000, env = {} } = {}) {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'papo-e2e-'));
  const bin = papoBinary();
  const child = spawn(bin, ['serve'], {
    cwd: repoDir,
    env: {
      ...process.env,
      PAPO_LISTEN: '127.0.0.1:0',
      PAPO_DATA_DIR: dataDir,
      PAPO_LOG_FORMAT: 'json',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  const output = [];
  const remember = (line) => {
    output.push(line);
    if (output.length > 500) output.shift();
  };
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  createInterface({ input: child.stderr }).on('line', remember);
  const stdout = createInterface({ input: child.stdout });

  let url;
  try {
    url = await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`papo did not report "listening on" within ${timeoutMs} ms`)),
        timeoutMs,
      );
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`could not start ${bin}: ${err.message}`));
      });
      exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`papo exited early (code ${code}, signal ${signal})`));
      });
      stdout.on('line', (line) => {
        remember(line);
        const match = LISTENING.exec(line);
        if (match) {
          clearTimeout(timer);
          resolve(match[1].replace(/\/+$/, ''));
        }
      });
    });
  } catch (err) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    await rm(dataDir, { recursive: true, force: true });
    err.message += `\n--- papo output ---\n${output.join('\n')}`;
    throw err;
  }

  let stopping;
  const stop = () => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(killer);
      }
      await rm(dataDir, { recursive: true, force: true });
    })();
    return stopping;
  };

  return { url, pid: child.pid, stop, logs: () => output.join('\n') };
}

/** Chromium flags for this machine (no sandbox as root, no background network). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Starts papo and Debian's Chromium for a test file, after checking that the binary and the
 * built web app exist. Returns `{ papo, browser }`; call `stopAll` with it when done.
 */
export async function startPapoAndBrowser() {
  if (!existsSync(papoBinary())) {
    throw new Error(`papo binary not found at ${papoBinary()} (build it, or set PAPO_BIN)`);
  }
  if (!existsSync(path.join(webDir, 'dist/index.html'))) {
    throw new Error('web/dist is missing: run `npm run build` first');
  }
  const { chromium } = await import('playwright-core');
  const papo = await startPapo();
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
  });
  return { papo, browser };
}

/** Closes what `startPapoAndBrowser` opened. */
export async function stopAll(env) {
  await env?.browser?.close();
  await env?.papo?.stop();
}
