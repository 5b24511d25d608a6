// Browser end-to-end test of accounts: register, reload, profile, language,
// log out / log in, and error messages. Needs the papo binary (see papo.mjs)
// and Debian's Chromium; run with `npm run build && npm run e2e`.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startPapoAndBrowser, stopAll, webDir } from './papo.mjs';
import { eventually, expectText, withDiagnostics } from './support.mjs';

const en = JSON.parse(await readFile(path.join(webDir, 'src/i18n/locales/en.json'), 'utf8'));
const pt = JSON.parse(await readFile(path.join(webDir, 'src/i18n/locales/pt-BR.json'), 'utf8'));

let papo;
let browser;

before(async () => {
  ({ papo, browser } = await startPapoAndBrowser());
});

after(async () => {
  await stopAll({ papo, browser });
});

/** A context + page that records uncaught errors and CSP violations. */
async function openPage(locale) {
  const context = await browser.newContext({ locale, viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy|Refused to/i.test(msg.text())) {
      problems.push(`CSP: ${msg.text()}`);
    }
  });
  return { context, page, problems };
}

async function expectAttribute(page, selector, name, value, timeout = 10_000) {
  await page.waitForFunction(
    ([sel, attr, want]) => document.querySelector(sel)?.getAttribute(attr) === want,
    [selector, name, value],
    { timeout },
  );
}

const pathOf = (page) => new URL(page.url()).pathname;

function freshUser() {
  const suffix = randomBytes(5).toString('hex');
  return {
    username: `e2e_${suffix}`,
    email: `e2e_${suffix}@example.com`,
    password: `Tr0ub4dor-${randomBytes(6).toString('hex')}`,
  };
}

describe('accounts in the browser', () => {
  test('register, profile, language, log out and log back in', { timeout: 180_000 }, async () => {
    const { context, page, problems } = await openPage('en-US');
    const user = freshUser();
    const displayName = 'E2E Tester';
    await withDiagnostics(papo, 'main', () => [page], async () => {
      // Landing page.
      await page.goto(`${papo.url}/`);
      await page.getByRole('heading', { level: 1, name: en.app.name }).waitFor();
      await expectAttribute(page, 'html', 'lang', 'en');
      // A guest's theme follows the system (Playwright's pages prefer light), as a new
      // account's does.
      await expectAttribute(page, 'html', 'data-theme', 'light');

      // Register.
      await page.getByTestId('landing-register').click();
      await page.waitForURL('**/register');
      await page.getByRole('heading', { name: en.auth.registerTitle }).waitFor();
      await page.getByLabel(en.auth.email).fill(user.email);
      await page.locator('input[name="username"]').fill(user.username);
      await page.locator('input[name="password"]').fill(user.password);
      await page.getByRole('button', { name: en.auth.submitRegister }).click();

      // The empty app.
      await page.waitForURL('**/app');
      await expectText(page.getByTestId('empty-state'), en.shell.emptyTitle);
      await expectText(page.getByTestId('user-panel-username'), user.username);

      // Still logged in after a reload.
      await page.reload();
      await expectText(page.getByTestId('empty-state'), en.shell.emptyTitle);
      assert.equal(pathOf(page), '/app');

      // Profile: change the display name.
      await page.getByTestId('open-settings').click();
      await page.waitForURL('**/settings/profile');
      await page.locator('input[name="display_name"]').fill(displayName);
      await page.getByRole('button', { name: en.common.save }).click();
      await expectText(page.getByTestId('profile-saved'), en.settings.profile.saved);
      // An unsaved change can be undone; a refused save puts the focus on the field at fault.
      const nameField = page.locator('input[name="display_name"]');
      const reset = page.getByTestId('profile-reset');
      assert.equal(await reset.isDisabled(), true, 'nothing to undo');
      await nameField.fill('Rascunho');
      await reset.click();
      assert.equal(await nameField.inputValue(), displayName);
      assert.equal(await reset.isDisabled(), true);
      await nameField.fill('Zero\u200bWidth');
      await nameField.press('Enter');
      await page.getByTestId('field-error-display_name').waitFor();
      assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'display_name');
      await reset.click();

      // Sessions: this device is listed.
      await page.getByTestId('settings-nav-sessions').click();
      await page.getByTestId('session-current').waitFor();
      assert.ok((await page.getByTestId('session-item').count()) >= 1);
      // Named in words, not by the raw User-Agent header.
      await expectText(page.getByTestId('session-item').filter({ has: page.getByTestId('session-current') }), 'Chrome on Linux');
      // Two more devices sign in; one button signs them both out (this one listed first).
      const signIn = async () => {
        const r = await fetch(`${papo.url}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ login: user.username, password: user.password }),
        });
        assert.equal(r.status, 200);
        return (await r.json()).access_token;
      };
      const elsewhere = [await signIn(), await signIn()];
      await page.reload();
      await expectText(page.getByTestId('session-item').first(), en.settings.sessions.thisDevice);
      assert.equal(await page.getByTestId('session-item').count(), 3);
      // Escape closes the dialog only, not the settings.
      await page.getByTestId('session-revoke-others').click();
      const confirmOthers = page.getByTestId('revoke-others-dialog');
      await confirmOthers.waitFor();
      await page.keyboard.press('Escape');
      await confirmOthers.waitFor({ state: 'detached' });
      assert.equal(pathOf(page), '/settings/sessions');
      await page.getByTestId('session-revoke-others').click();
      await expectText(confirmOthers, '2 other devices will be logged out.');
      await confirmOthers.getByRole('button', { name: en.settings.sessions.revokeOthersConfirm }).click();
      await confirmOthers.waitFor({ state: 'detached' });
      await expectText(page.getByTestId('session-notice'), en.settings.sessions.revokedOthers);
      assert.equal(await page.getByTestId('session-item').count(), 1);
      // The focus is on the page's heading, not lost to the page.
      await eventually(async () => (await page.evaluate(() => document.activeElement?.tagName)) === 'H1', 'focus on the heading');
      assert.equal(await page.getByTestId('session-revoke-others').count(), 0);
      for (const token of elsewhere) {
        const r = await fetch(`${papo.url}/api/v1/users/@me`, { headers: { authorization: `Bearer ${token}` } });
        assert.equal(r.status, 401, 'signed out');
      }

      // Password: empty fields are said to be required, here, with the focus on the first.
      await page.getByTestId('settings-nav-password').click();
      await page.getByTestId('password-form').getByRole('button', { name: en.settings.password.submit }).click();
      await expectText(page.getByTestId('field-error-current_password'), en.errors.required);
      await expectText(page.getByTestId('field-error-new_password'), en.errors.required);
      assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'current_password');

      // Appearance: light theme, applied at once.
      await page.getByTestId('settings-nav-appearance').click();
      await page.getByLabel(en.settings.appearance.light).check();
      await expectAttribute(page, 'html', 'data-theme', 'light');
      await expectText(page.getByTestId('theme-saved'), en.settings.appearance.saved);

      // Back in the app, the user panel shows the new name.
      await page.getByTestId('close-settings').click();
      await page.waitForURL('**/app');
      await expectText(page.getByTestId('user-panel-display-name'), displayName);

      // Language: switch to Portuguese; the UI changes at once.
      await page.getByTestId('open-settings').click();
      await page.getByTestId('settings-nav-language').click();
      await page.getByRole('heading', { name: en.settings.language.title }).waitFor();
      await page.getByLabel('Português (Brasil)').check();
      await page.getByRole('heading', { name: pt.settings.language.title }).waitFor();
      await expectText(page.getByTestId('language-saved'), pt.settings.language.saved);
      await expectAttribute(page, 'html', 'lang', 'pt-BR');
      await expectText(page.getByTestId('settings-nav-profile'), pt.settings.nav.profile);
      assert.notEqual(pt.settings.language.title, en.settings.language.title);

      await page.getByTestId('close-settings').click();
      await expectText(page.getByTestId('empty-state'), pt.shell.emptyTitle);

      // A second tab, connected too.
      const tab = await context.newPage();
      await tab.goto(`${papo.url}/app`);
      await expectText(tab.getByTestId('empty-state'), pt.shell.emptyTitle);
      await tab.waitForTimeout(1_000); // its gateway socket is up

      // Log out: the login page keeps this device's language.
      await page.getByTestId('logout-button').click();
      await page.waitForURL('**/login');
      await page.getByRole('heading', { name: pt.auth.loginTitle }).waitFor();
      // The other tab is logged out too, as a logout, not as a session that ended by itself
      // (the server closing its socket could reach it before the cleared tokens did).
      await tab.waitForURL('**/login');
      await tab.getByRole('heading', { name: pt.auth.loginTitle }).waitFor();
      await tab.waitForTimeout(500);
      assert.equal(await tab.getByTestId('session-expired').count(), 0, 'no "session ended" in the other tab');
      await tab.close();

      // Forget everything local: the login page follows the browser (English) ...
      await page.evaluate(() => localStorage.clear());
      await page.reload();
      await page.getByRole('heading', { name: en.auth.loginTitle }).waitFor();
      await expectAttribute(page, 'html', 'lang', 'en');

      // ... and logging in brings back the saved language and theme.
      await page.locator('input[name="login"]').fill(user.username);
      await page.locator('input[name="password"]').fill(user.password);
      await page.locator('form button[type="submit"]').click();
      await page.waitForURL('**/app');
      await expectText(page.getByTestId('empty-state'), pt.shell.emptyTitle);
      await expectAttribute(page, 'html', 'lang', 'pt-BR');
      await expectAttribute(page, 'html', 'data-theme', 'light');
      await expectText(page.getByTestId('user-panel-display-name'), displayName);
      assert.equal(
        await page.getByTestId('logout-button').getAttribute('aria-label'),
        pt.userPanel.logout,
      );
    });
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('shows translated login and field errors', { timeout: 120_000 }, async () => {
    const { context, page, problems } = await openPage('en-US');
    await withDiagnostics(papo, 'errors', () => [page], async () => {
      // Nothing typed: each field says it is required, and nothing is asked of the server.
      await page.goto(`${papo.url}/login`);
      let loginRequests = 0;
      page.on('request', (r) => {
        if (new URL(r.url()).pathname === '/api/v1/auth/login') loginRequests++;
      });
      await page.getByRole('button', { name: en.auth.submitLogin }).click();
      await expectText(page.getByTestId('field-error-login'), en.errors.required);
      await expectText(page.getByTestId('field-error-password'), en.errors.required);
      assert.equal(loginRequests, 0);

      // Wrong password: the translated top-level error above the form.
      await page.locator('input[name="login"]').fill(`nobody_${randomBytes(4).toString('hex')}`);
      await page.locator('input[name="password"]').fill('definitely-wrong-password');
      await page.getByRole('button', { name: en.auth.submitLogin }).click();
      await expectText(page.getByTestId('form-error'), en.errors.invalid_credentials);
      assert.equal(pathOf(page), '/login');

      // A short password: the field error right under the password input.
      await page.getByRole('link', { name: en.auth.registerLink }).click();
      await page.waitForURL('**/register');
      const user = freshUser();
      await page.locator('input[name="email"]').fill(user.email);
      await page.locator('input[name="username"]').fill(user.username);
      const password = page.locator('input[name="password"]');
      await password.fill('short');
      await page.getByRole('button', { name: en.auth.submitRegister }).click();
      const fieldError = page.getByTestId('field-error-password');
      const text = await expectText(fieldError, /\S/);
      assert.ok(
        [en.errors.password_too_short, en.errors.too_short].includes(text),
        `unexpected password error ${JSON.stringify(text)}`,
      );
      assert.equal(await password.getAttribute('aria-invalid'), 'true');
      const errorId = await fieldError.getAttribute('id');
      assert.ok((await password.getAttribute('aria-describedby'))?.split(' ').includes(errorId));
      // Rendered below the input.
      const inputBox = await password.boundingBox();
      const errorBox = await fieldError.boundingBox();
      assert.ok(inputBox && errorBox && errorBox.y >= inputBox.y + inputBox.height - 1);
      assert.equal(pathOf(page), '/register');
    });
    assert.deepEqual(problems, []);
    await context.close();

    // The same login error in Portuguese for a pt-BR browser.
    const ptPage = await openPage('pt-BR');
    await withDiagnostics(papo, 'errors-pt', () => [ptPage.page], async () => {
      await ptPage.page.goto(`${papo.url}/login`);
      await ptPage.page.getByRole('heading', { name: pt.auth.loginTitle }).waitFor();
      await ptPage.page.getByLabel(pt.auth.loginLabel).fill(`nobody_${randomBytes(4).toString('hex')}`);
      await ptPage.page.getByLabel(pt.auth.password).fill('definitely-wrong-password');
      await ptPage.page.getByRole('button', { name: pt.auth.submitLogin }).click();
      await expectText(ptPage.page.getByTestId('form-error'), pt.errors.invalid_credentials);
    });
    assert.deepEqual(ptPage.problems, []);
    await ptPage.context.close();
  });
});
