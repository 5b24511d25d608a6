// Browser end-to-end test of the real-time gateway: presence picker and custom
// status (saved with the account: a second device starts with it and follows it),
// live `user.updated` across two tabs, and reconnect + resume after a
// dropped socket. Needs the papo binary (see papo.mjs) and Debian's Chromium;
// run with `npm run build && npm run e2e`.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startPapoAndBrowser, stopAll, webDir } from './papo.mjs';
import { expectText, waitForConnected, watch, withDiagnostics } from './support.mjs';

const en = JSON.parse(await readFile(path.join(webDir, 'src/i18n/locales/en.json'), 'utf8'));

let papo;
let browser;

before(async () => {
  ({ papo, browser } = await startPapoAndBrowser());
});

after(async () => {
  await stopAll({ papo, browser });
});

/** Polls until the attribute of the first match equals `value`. */
async function expectAttribute(locator, name, value, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  let last = null;
  for (;;) {
    last = await locator
      .first()
      .getAttribute(name, { timeout: 1_000 })
      .catch(() => null);
    if (last === value) return;
    if (Date.now() > deadline) {
      assert.fail(`expected ${name}=${JSON.stringify(value)} on ${locator}, got ${JSON.stringify(last)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function gatewayState(page) {
  return page.evaluate(() => window.__papoGateway?.state ?? null);
}

function freshUser() {
  const suffix = randomBytes(5).toString('hex');
  return {
    username: `gw_${suffix}`,
    email: `gw_${suffix}@example.com`,
    password: `Tr0ub4dor-${randomBytes(6).toString('hex')}`,
  };
}

describe('real-time gateway in the browser', () => {
  test('presence, live profile updates across tabs, reconnect', { timeout: 180_000 }, async () => {
    const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    const problems = watch(page, 'page 1');
    let page2 = null;
    const user = freshUser();
    const newName = `Live ${randomBytes(3).toString('hex')}`;

    await withDiagnostics(papo, 'gateway', () => [page, page2].filter(Boolean), async () => {
      // Register.
      await page.goto(`${papo.url}/register`);
      await page.locator('input[name="email"]').fill(user.email);
      await page.locator('input[name="username"]').fill(user.username);
      await page.locator('input[name="password"]').fill(user.password);
      await page.getByRole('button', { name: en.auth.submitRegister }).click();
      await page.waitForURL('**/app');
      await expectText(page.getByTestId('user-panel-username'), user.username);

      // Connected: no banner.
      await waitForConnected(page);
      assert.equal(await page.getByTestId('gateway-banner').isVisible(), false);
      const panel = page.getByTestId('user-panel');
      await expectAttribute(panel.getByTestId('presence-dot'), 'aria-label', en.presence.status.online);

      // Do Not Disturb from the picker.
      await page.getByTestId('presence-trigger').click();
      await page.getByRole('menu', { name: en.presence.menuLabel }).waitFor();
      await page.getByRole('menuitemradio', { name: new RegExp(en.presence.status.dnd) }).click();
      await expectAttribute(panel.getByTestId('presence-dot'), 'aria-label', en.presence.status.dnd);

      // Custom status "Focus time", cleared after an hour.
      await page.getByTestId('presence-trigger').click();
      await page.getByRole('menuitem', { name: en.presence.setCustom }).click();
      const dialog = page.getByRole('dialog', { name: en.presence.dialog.title });
      await dialog.waitFor();
      await dialog.getByLabel(en.presence.dialog.text, { exact: true }).fill('Focus time');
      await dialog.getByLabel(en.presence.dialog.clearAfter, { exact: true }).selectOption('1h');
      await dialog.getByRole('button', { name: en.presence.dialog.save }).click();
      await dialog.waitFor({ state: 'hidden' });
      await expectText(panel.getByTestId('user-panel-custom-status'), 'Focus time');
      await expectAttribute(panel.getByTestId('presence-dot'), 'aria-label', en.presence.status.dnd);
      // The choice is saved with the account, not on the device ...
      const stored = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('papo.presence.')));
      assert.deepEqual(stored, []);
      // Edited and saved as it was, it still clears when it was set to (the choice started at
      // "Don't clear" and dropped the expiry).
      const savedCustom = () =>
        page.evaluate(async () => {
          const r = await fetch('/api/v1/users/@me', { headers: { authorization: `Bearer ${localStorage.getItem('papo.access_token')}` } });
          return (await r.json()).settings.custom_status;
        });
      const expiresAt = (await savedCustom()).expires_at;
      assert.ok(expiresAt, 'it clears at some time');
      await page.getByTestId('presence-trigger').click();
      await page.getByRole('menuitem', { name: en.presence.editCustom }).click();
      await dialog.waitFor();
      assert.equal(await dialog.getByLabel(en.presence.dialog.clearAfter, { exact: true }).inputValue(), 'keep');
      await dialog.getByRole('button', { name: en.presence.dialog.save }).click();
      await dialog.waitFor({ state: 'hidden' });
      assert.equal((await savedCustom()).expires_at, expiresAt);

      // ... so another device that logs in starts with it, and a status picked there reaches
      // this one live.
      const device = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } });
      device.setDefaultTimeout(15_000);
      const other = await device.newPage();
      const problemsOther = watch(other, 'other device');
      await other.goto(`${papo.url}/login`);
      await other.locator('input[name="login"]').fill(user.username);
      await other.locator('input[name="password"]').fill(user.password);
      await other.locator('form button[type="submit"]').click();
      await other.waitForURL('**/app');
      await waitForConnected(other);
      const otherPanel = other.getByTestId('user-panel');
      await expectAttribute(otherPanel.getByTestId('presence-dot'), 'aria-label', en.presence.status.dnd);
      await expectText(otherPanel.getByTestId('user-panel-custom-status'), 'Focus time');
      await other.getByTestId('presence-trigger').click();
      await other.getByRole('menuitemradio', { name: new RegExp(en.presence.status.idle) }).click();
      await expectAttribute(otherPanel.getByTestId('presence-dot'), 'aria-label', en.presence.status.idle);
      await expectAttribute(panel.getByTestId('presence-dot'), 'aria-label', en.presence.status.idle);
      await expectText(panel.getByTestId('user-panel-custom-status'), 'Focus time');
      await device.close();
      problems.push(...problemsOther);

      // A second tab of the same browser: same account.
      page2 = await context.newPage();
      const problems2 = watch(page2, 'page 2');
      await page2.goto(`${papo.url}/settings/profile`);
      await waitForConnected(page2);
      await page2.locator('input[name="display_name"]').fill(newName);
      await page2.getByRole('button', { name: en.common.save }).click();
      await expectText(page2.getByTestId('profile-saved'), en.settings.profile.saved);

      // Tab 1 follows without a reload (user.updated over the gateway).
      await expectText(panel.getByTestId('user-panel-display-name'), newName);
      // ... and still shows the presence (tab 2 started with the saved choice).
      await expectAttribute(panel.getByTestId('presence-dot'), 'aria-label', en.presence.status.idle);

      // Tab 2 sees the idle presence and the custom status too.
      await page2.getByTestId('close-settings').click();
      await page2.waitForURL('**/app');
      const panel2 = page2.getByTestId('user-panel');
      await expectAttribute(panel2.getByTestId('presence-dot'), 'aria-label', en.presence.status.idle);
      await expectText(panel2.getByTestId('user-panel-custom-status'), 'Focus time');
      await expectText(panel2.getByTestId('user-panel-display-name'), newName);
      await page2.close();
      page2 = null;
      problems.push(...problems2);

      // Reconnect: drop tab 1's socket; the banner shows, then the session is resumed.
      await waitForConnected(page);
      const before = await page.evaluate(() => window.__papoGateway.info());
      await page.evaluate(() => {
        window.__bannerSeen = false;
        const seen = () => {
          const banner = document.querySelector('[data-testid="gateway-banner"]');
          if (banner && !banner.hidden) window.__bannerSeen = true;
        };
        new MutationObserver(seen).observe(document.body, {
          subtree: true,
          childList: true,
          attributes: true,
          attributeFilter: ['hidden'],
        });
        window.__papoGateway.debugDrop();
        seen();
      });
      await waitForConnected(page, 40_000);
      const afterDrop = await page.evaluate(() => ({
        info: window.__papoGateway.info(),
        states: window.__papoGateway.states,
        bannerSeen: window.__bannerSeen,
      }));
      assert.ok(
        afterDrop.bannerSeen || afterDrop.states.includes('reconnecting'),
        `expected the state to pass through reconnecting: ${JSON.stringify(afterDrop.states)}`,
      );
      await page.getByTestId('gateway-banner').waitFor({ state: 'hidden' });
      assert.equal(await gatewayState(page), 'connected');
      assert.equal(
        afterDrop.info.resumedCount,
        before.resumedCount + 1,
        `expected a resume after the drop, got ${JSON.stringify({ before, after: afterDrop.info })}` +
          ' (the server must keep a session resumable when the client closes with code 4000)',
      );
      assert.equal(afterDrop.info.sessionId, before.sessionId);
      assert.equal(afterDrop.info.readyCount, before.readyCount);

      // Still live after the resume: the saved presence is back.
      await expectAttribute(panel.getByTestId('presence-dot'), 'aria-label', en.presence.status.idle);
      await expectText(panel.getByTestId('user-panel-custom-status'), 'Focus time');
    });
    assert.deepEqual(problems, []);
    await context.close();
  });
});
