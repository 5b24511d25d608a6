// Helpers shared by the browser tests.

import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Records uncaught errors and CSP violations of a page. */
export function watch(page, name) {
  const problems = [];
  page.on('pageerror', (err) => problems.push(`${name}: page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy|Refused to/i.test(msg.text())) {
      problems.push(`${name}: CSP: ${msg.text()}`);
    }
  });
  return problems;
}

/** Runs a test body; on failure saves screenshots of `pages()` and the tail of papo's log. */
export async function withDiagnostics(papo, name, pages, body) {
  try {
    await body();
  } catch (err) {
    const shots = [];
    for (const [i, page] of pages().entries()) {
      const file = path.join(tmpdir(), `papo-e2e-${name}-${i + 1}-${Date.now()}.png`);
      await page.screenshot({ path: file, fullPage: true }).catch(() => {});
      shots.push(`${file} (${page.url()})`);
    }
    err.message += `\n(screenshots: ${shots.join(', ')})\n--- papo output (tail) ---\n${papo
      .logs()
      .split('\n')
      .slice(-40)
      .join('\n')}`;
    throw err;
  }
}

/** Polls until `fn()` returns a truthy value. */
export async function eventually(fn, message, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) assert.fail(`${message} (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Polls until the locator's text (as read, without bidi isolates) matches. */
export async function expectText(locator, expected, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  let last = null;
  for (;;) {
    try {
      // Without the invisible isolates around values put into sentences (U+2066–U+2069).
      last = ((await locator.first().textContent({ timeout: 1_000 })) ?? '').replace(/[\u2066-\u2069]/g, '');
    } catch {
      last = null;
    }
    const ok =
      last !== null && (expected instanceof RegExp ? expected.test(last) : last.includes(expected));
    if (ok) return last;
    if (Date.now() > deadline) {
      assert.fail(`expected text ${String(expected)} in ${locator}, got ${JSON.stringify(last)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until the page's gateway client is connected. */
export async function waitForConnected(page, timeout = 15_000) {
  await page.waitForFunction(() => window.__papoGateway?.state === 'connected', null, { timeout });
}
