// Browser end-to-end test of servers and channels: create a server from the
// rail, create / edit / delete channels, a second tab of the same account
// following live over the gateway, server settings, the phone drawer, and
// deleting the server. Needs the papo binary (see papo.mjs) and Debian's
// Chromium; run with `npm run build && npm run e2e`.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startPapoAndBrowser, stopAll, webDir } from './papo.mjs';
import { eventually, expectText, waitForConnected, watch, withDiagnostics } from './support.mjs';

const en = JSON.parse(await readFile(path.join(webDir, 'src/i18n/locales/en.json'), 'utf8'));

let papo;
let browser;

before(async () => {
  ({ papo, browser } = await startPapoAndBrowser());
});

after(async () => {
  await stopAll({ papo, browser });
});

async function expectCount(locator, count, timeout = 10_000) {
  let n = null;
  await eventually(
    async () => (n = await locator.count()) === count,
    `expected ${count} × ${locator}, got ${n}`,
    timeout,
  );
}

function freshUser() {
  const suffix = randomBytes(5).toString('hex');
  return {
    username: `srv_${suffix}`,
    email: `srv_${suffix}@example.com`,
    password: `Tr0ub4dor-${randomBytes(6).toString('hex')}`,
  };
}

const CHANNEL_URL = /\/app\/servers\/\d+\/channels\/\d+$/;
const channelLink = (scope, name) => scope.locator(`[data-testid="channel-link"][data-channel-name="${name}"]`);
const channelRow = (page, name) => page.locator('.channel-row', { has: channelLink(page, name) });

describe('servers and channels in the browser', () => {
  test('create a server and channels, follow them live in a second tab, delete', { timeout: 240_000 }, async () => {
    const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    const problems = watch(page, 'page 1');
    let page2 = null;
    const user = freshUser();
    const serverName = 'Clube do Livro';
    const topic = 'Um livro por semana, sem spoilers';
    const renamed = 'Clube de Leitura';

    await withDiagnostics(papo, 'servers', () => [page, page2].filter(Boolean), async () => {
      // Register: no servers yet.
      await page.goto(`${papo.url}/register`);
      await page.locator('input[name="email"]').fill(user.email);
      await page.locator('input[name="username"]').fill(user.username);
      await page.locator('input[name="password"]').fill(user.password);
      await page.getByRole('button', { name: en.auth.submitRegister }).click();
      await page.waitForURL('**/app');
      await waitForConnected(page);
      const rail = page.getByTestId('server-rail');
      await expectText(page.getByTestId('empty-state'), en.shell.emptyTitle);
      assert.equal(await rail.getByTestId('rail-server').count(), 0);

      // Create a server from the rail's "+"; a too-short name shows the API's field error first.
      await rail.getByRole('button', { name: en.shell.addServer }).click();
      const createServer = page.getByRole('dialog', { name: en.servers.create.title });
      await createServer.waitFor();
      await createServer.locator('input[name="name"]').fill('A');
      await createServer.getByTestId('create-server-submit').click();
      // ... saying the limit the server gives ("At least 2 characters.").
      await expectText(createServer.getByTestId('field-error-name'), en.errors.too_short_limit_other.replace('{{count}}', '2'));
      await createServer.locator('input[name="name"]').fill(serverName);
      await createServer.getByTestId('create-server-submit').click();
      await createServer.waitFor({ state: 'hidden' });

      // Lands in #general; the rail shows the server (initials, name as label, active).
      await page.waitForURL(CHANNEL_URL);
      await expectText(page.getByTestId('channel-title'), 'general');
      await expectText(page.getByTestId('channel-welcome'), 'This is the beginning of #general');
      const railServer = rail.getByRole('link', { name: serverName, exact: true });
      await railServer.waitFor();
      assert.equal(await railServer.getAttribute('aria-current'), 'page');
      assert.equal(await railServer.getAttribute('title'), serverName);
      assert.equal((await railServer.textContent())?.trim(), 'CdL');
      await expectText(page.getByTestId('server-name'), serverName);
      const sidebar = page.getByTestId('channel-sidebar');
      await expectText(sidebar, en.channels.textChannels);
      await expectText(sidebar, en.channels.voiceChannels);
      assert.equal(await channelLink(sidebar, 'general').getAttribute('aria-current'), 'page');
      await channelLink(sidebar, 'General').waitFor();
      const serverUrl = new URL(page.url()).pathname.replace(/\/channels\/\d+$/, '');

      // The voice channel opens its placeholder.
      await channelLink(sidebar, 'General').click();
      await expectText(page.getByTestId('voice-placeholder'), en.channels.voice.title);

      // Create a text channel: the dialog previews the name the server will store.
      await sidebar.getByTestId('create-channel').click();
      const createChannel = page.getByRole('dialog', { name: en.channels.create.title });
      await createChannel.waitFor();
      assert.equal(await createChannel.locator('input[name="kind"][value="text"]').isChecked(), true);
      await createChannel.locator('input[name="name"]').fill('Leituras da Semana');
      await expectText(createChannel, '#leituras-da-semana');
      await createChannel.getByTestId('create-channel-submit').click();
      await createChannel.waitFor({ state: 'hidden' });

      // It appears normalised, and opens.
      await channelLink(sidebar, 'leituras-da-semana').waitFor();
      await expectText(page.getByTestId('channel-title'), 'leituras-da-semana');
      assert.equal(await channelLink(sidebar, 'leituras-da-semana').getAttribute('aria-current'), 'page');
      const channelUrl = new URL(page.url()).pathname;
      assert.match(channelUrl, CHANNEL_URL);

      // Edit its topic (and slowmode) from the gear on its row.
      await channelRow(page, 'leituras-da-semana').getByTestId('edit-channel').click();
      const editChannel = page.getByRole('dialog', { name: en.channels.edit.title });
      await editChannel.waitFor();
      await editChannel.locator('textarea[name="topic"]').fill(topic);
      await editChannel.locator('select[name="slowmode_secs"]').selectOption('30');
      await editChannel.getByTestId('edit-channel-save').click();
      await editChannel.waitFor({ state: 'hidden' });
      await expectText(page.getByTestId('channel-topic'), topic);

      // A second tab of the same account sees the new channel and its topic.
      page2 = await context.newPage();
      const problems2 = watch(page2, 'page 2');
      await page2.goto(`${papo.url}${serverUrl}`);
      await waitForConnected(page2);
      await page2.waitForURL(CHANNEL_URL);
      const sidebar2 = page2.getByTestId('channel-sidebar');
      await channelLink(sidebar2, 'leituras-da-semana').waitFor();
      await channelLink(sidebar2, 'leituras-da-semana').click();
      await page2.waitForURL(`**${channelUrl}`);
      await expectText(page2.getByTestId('channel-topic'), topic);

      // A voice channel created in tab 1 shows up in tab 2 live (channel.created), name as typed.
      await sidebar.getByTestId('create-channel').click();
      await createChannel.waitFor();
      await createChannel.getByTestId('channel-kind-voice').click();
      await createChannel.locator('input[name="name"]').fill('Sala de Estar');
      await createChannel.getByTestId('create-channel-submit').click();
      await createChannel.waitFor({ state: 'hidden' });
      await expectText(page.getByTestId('voice-placeholder'), en.channels.voice.title);
      await channelLink(sidebar2, 'Sala de Estar').waitFor();
      assert.equal(await channelLink(sidebar2, 'Sala de Estar').getAttribute('data-kind'), 'voice');
      await channelLink(sidebar, 'leituras-da-semana').click();
      await page.waitForURL(`**${channelUrl}`);

      // Server settings (manage_server): rename and describe; tab 2 follows (server.updated).
      await page.getByTestId('server-menu-trigger').click();
      const menu = page.getByRole('menu');
      await menu.waitFor();
      // The owner can delete the server but is not offered to leave it.
      assert.equal(await menu.getByTestId('server-menu-leave').count(), 0);
      await menu.getByTestId('server-menu-delete').waitFor();
      await menu.getByRole('menuitem', { name: en.servers.menu.settings }).click();
      await page.waitForURL(`**${serverUrl}/settings/overview`);
      const overview = page.getByTestId('server-overview-form');
      assert.equal(await overview.locator('input[name="name"]').inputValue(), serverName);
      await overview.locator('input[name="name"]').fill(renamed);
      await overview.locator('textarea[name="description"]').fill('Lemos juntos, conversamos juntos.');
      await overview.getByTestId('server-overview-save').click();
      await expectText(page.getByTestId('server-overview-saved'), en.servers.settings.overview.saved);
      await page2.getByTestId('server-rail').getByRole('link', { name: renamed, exact: true }).waitFor();
      await expectText(page2.getByTestId('server-name'), renamed);
      // Closing goes back to the channel that was open.
      await page.getByTestId('close-server-settings').click();
      await page.waitForURL(`**${channelUrl}`);

      // Phone layout on tab 2: the rail and channels are a drawer behind the menu button.
      await page2.setViewportSize({ width: 390, height: 800 });
      const rail2 = page2.getByTestId('server-rail');
      await eventually(async () => !(await rail2.isVisible()), 'the rail should be hidden on a phone');
      await page2.getByTestId('menu-toggle').click();
      await eventually(() => rail2.isVisible(), 'the drawer should show the rail');
      // The drawer has the focus, and the main area behind it is inert until it closes.
      await eventually(
        () => page2.evaluate(() => !!document.activeElement?.closest('.sidebar')),
        'the focus moves into the drawer',
      );
      assert.equal(await page2.locator('main#main').getAttribute('inert'), '');
      await page2.keyboard.press('Escape');
      await eventually(async () => !(await rail2.isVisible()), 'Escape closes the drawer');
      assert.equal(await page2.locator('main#main').getAttribute('inert'), null);
      await eventually(
        () => page2.evaluate(() => document.activeElement?.getAttribute('data-testid') === 'menu-toggle'),
        'the focus goes back to the menu button',
      );
      await page2.getByTestId('menu-toggle').click();
      await eventually(() => rail2.isVisible(), 'the drawer opens again');
      await channelLink(sidebar2, 'general').click();
      await page2.waitForURL(CHANNEL_URL);
      await expectText(page2.getByTestId('channel-title'), 'general');
      await eventually(async () => !(await rail2.isVisible()), 'picking a channel closes the drawer');
      // The member list is a drawer too: Tab stays in it (the user panel behind it is inert).
      await page2.getByTestId('member-list-toggle').click();
      await page2.getByTestId('member-list').waitFor();
      for (let i = 0; i < 12; i++) {
        await page2.keyboard.press('Tab');
        const inDrawer = await page2.evaluate(
          () => !!document.activeElement?.closest('[data-testid="member-list"]') || document.activeElement === document.body,
        );
        assert.ok(inDrawer, `Tab ${i + 1} left the member drawer`);
      }
      await page2.keyboard.press('Escape');
      await page2.getByTestId('member-list').waitFor({ state: 'hidden' });
      await page2.setViewportSize({ width: 1280, height: 800 });
      await channelLink(sidebar2, 'leituras-da-semana').click();
      await page2.waitForURL(`**${channelUrl}`);

      // Delete the channel from tab 1 (it is open there): tab 1 goes to #general…
      await expectText(page.getByTestId('channel-title'), 'leituras-da-semana');
      await channelRow(page, 'leituras-da-semana').getByTestId('edit-channel').click();
      await page.getByRole('dialog', { name: en.channels.edit.title }).waitFor();
      await page.getByTestId('delete-channel').click();
      const confirmChannel = page.getByTestId('delete-channel-dialog');
      await confirmChannel.waitFor();
      await confirmChannel.getByTestId('confirm-button').click();
      await expectCount(channelLink(sidebar, 'leituras-da-semana'), 0);
      await expectText(page.getByTestId('channel-title'), 'general');
      assert.notEqual(new URL(page.url()).pathname, channelUrl);
      // This tab deleted it: nothing to explain.
      await expectCount(page.getByTestId('route-notice'), 0);

      // … and it disappears from tab 2 live (channel.deleted), which leaves the deleted channel too.
      await expectCount(channelLink(sidebar2, 'leituras-da-semana'), 0);
      await expectText(page2.getByTestId('channel-title'), 'general');
      await channelLink(sidebar2, 'general').waitFor();
      // Tab 2 had it open: it says where the channel went.
      await expectText(page2.getByTestId('route-notice'), '#leituras-da-semana');

      // Home and back: one sidebar at a time (the server's was once left behind at home,
      // under the direct messages', one more each round trip).
      for (let round = 0; round < 2; round++) {
        await rail.getByRole('link', { name: en.shell.home, exact: true }).click();
        await page.waitForURL('**/app');
        await page.locator('aside.sidebar', { hasText: en.shell.sidebarTitle }).waitFor();
        await expectCount(page.locator('aside.sidebar'), 1);
        await rail.getByRole('link', { name: renamed, exact: true }).click();
        await page.waitForURL(CHANNEL_URL);
        await page.getByTestId('channel-sidebar').waitFor();
        await expectCount(page.locator('aside.sidebar'), 1);
      }

      // Delete the server, typing its name.
      await page.getByTestId('server-menu-trigger').click();
      await page.getByRole('menu').getByRole('menuitem', { name: en.servers.menu.delete }).click();
      const confirmServer = page.getByTestId('delete-server-dialog');
      await confirmServer.waitFor();
      const confirmButton = confirmServer.getByTestId('confirm-button');
      assert.equal(await confirmButton.isDisabled(), true);
      await confirmServer.locator('input[name="confirm_text"]').fill(serverName);
      assert.equal(await confirmButton.isDisabled(), true);
      await confirmServer.locator('input[name="confirm_text"]').fill(renamed);
      await confirmButton.click();
      await page.waitForURL('**/app');
      await expectCount(rail.getByTestId('rail-server'), 0);
      await expectText(page.getByTestId('empty-state'), en.shell.emptyTitle);
      await expectCount(page.getByTestId('route-notice'), 0);
      await page.locator('aside.sidebar', { hasText: en.shell.sidebarTitle }).waitFor();
      await expectCount(page.locator('aside.sidebar'), 1);

      // Tab 2 follows (server.deleted): back home with an empty rail.
      await page2.waitForURL('**/app');
      await expectCount(page2.getByTestId('server-rail').getByTestId('rail-server'), 0);
      await page2.locator('aside.sidebar', { hasText: en.shell.sidebarTitle }).waitFor();
      await expectCount(page2.locator('aside.sidebar'), 1);
      problems.push(...problems2);
    });
    assert.deepEqual(problems, []);
    await context.close();
  });
});
