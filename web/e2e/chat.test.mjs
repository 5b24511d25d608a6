// Browser end-to-end test of the chat core with two people in two browser
// contexts: Alice creates a server and an invite; Bob joins from the link;
// they chat both ways live, react, reply, edit and delete; Bob's unread
// marker appears and clears; Alice's socket drops while Bob changes his
// status, and her resume shows it; Alice bans Bob and his UI loses the server
// at once. Messages go over the gateway socket, not REST. Needs the papo binary
// (see papo.mjs) and Debian's Chromium.

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

function freshUser(prefix) {
  const suffix = randomBytes(4).toString('hex');
  return {
    username: `${prefix}_${suffix}`,
    email: `${prefix}_${suffix}@example.com`,
    password: `Tr0ub4dor-${randomBytes(6).toString('hex')}`,
  };
}

async function register(page, user) {
  await page.goto(`${papo.url}/register`);
  await page.locator('input[name="email"]').fill(user.email);
  await page.locator('input[name="username"]').fill(user.username);
  await page.locator('input[name="password"]').fill(user.password);
  await page.getByRole('button', { name: en.auth.submitRegister }).click();
  await page.waitForURL('**/app');
  await waitForConnected(page);
}

const channelLink = (page, name) =>
  page.getByTestId('channel-sidebar').locator(`[data-testid="channel-link"][data-channel-name="${name}"]`);
const messageWith = (page, text) => page.getByTestId('message').filter({ hasText: text });

/** Sends `text` from the composer; `shown` is how it reads once rendered. */
async function send(page, text, shown = text) {
  const composer = page.getByTestId('composer');
  await composer.fill(text);
  await composer.press('Enter');
  // Committed: the optimistic copy loses its pending mark.
  await eventually(
    async () => (await messageWith(page, shown).count()) === 1 &&
      (await messageWith(page, shown).first().getAttribute('data-pending')) !== 'true',
    `"${text}" sent`,
  );
}

/** Opens a message's toolbar (hover) and clicks one of its buttons. */
async function act(page, text, button) {
  const message = messageWith(page, text).first();
  await message.hover();
  await message.getByTestId(button).click();
}

describe('chat between two people', () => {
  test('invite, chat both ways, react, reply, edit, delete, unread, ban', { timeout: 300_000 }, async () => {
    const aliceCtx = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } });
    const bobCtx = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } });
    aliceCtx.setDefaultTimeout(15_000);
    bobCtx.setDefaultTimeout(15_000);
    const alicePage = await aliceCtx.newPage();
    const bobPage = await bobCtx.newPage();
    const problems = [];
    const aliceProblems = watch(alicePage, 'alice');
    const bobProblems = watch(bobPage, 'bob');
    const alice = freshUser('alice');
    const bob = freshUser('bob');
    // While connected, messages go over the gateway socket, not REST.
    let restSends = 0;
    let gatewaySends = 0;
    // What each page's sockets received, as parsed frames.
    const received = new Map([
      [alicePage, []],
      [bobPage, []],
    ]);
    for (const page of [alicePage, bobPage]) {
      page.on('request', (r) => {
        if (r.method() === 'POST' && /\/channels\/\d+\/messages$/.test(new URL(r.url()).pathname)) restSends++;
      });
      page.on('websocket', (ws) => {
        ws.on('framesent', (f) => {
          if (typeof f.payload === 'string' && f.payload.includes('"op":"message_create"')) gatewaySends++;
        });
        ws.on('framereceived', (f) => {
          if (typeof f.payload === 'string') received.get(page).push(JSON.parse(f.payload));
        });
      });
    }

    await withDiagnostics(papo, 'chat', () => [alicePage, bobPage], async () => {
      // Alice creates a server and an invite from the sidebar.
      await register(alicePage, alice);
      await alicePage.getByTestId('server-rail').getByRole('button', { name: en.shell.addServer }).click();
      const create = alicePage.getByRole('dialog', { name: en.servers.create.title });
      await create.locator('input[name="name"]').fill('Turma do Café');
      await create.getByTestId('create-server-submit').click();
      await alicePage.waitForURL(/\/channels\/\d+$/);
      await alicePage.getByTestId('invite-button').click();
      await alicePage.getByTestId('invite-create').click();
      const link = await eventually(
        async () => await alicePage.getByTestId('invite-link').inputValue(),
        'invite link shown',
      );
      assert.match(link, /\/invite\/[A-Za-z0-9]+$/);
      await alicePage.keyboard.press('Escape');

      // A channel with a message from before Bob joins: read for him, as the server says.
      await alicePage.getByTestId('create-channel').click();
      const rulesDialog = alicePage.getByRole('dialog', { name: en.channels.create.title });
      await rulesDialog.locator('input[name="name"]').fill('regras');
      await rulesDialog.getByTestId('create-channel-submit').click();
      await rulesDialog.waitFor({ state: 'hidden' });
      await send(alicePage, 'Sejam gentis');
      await channelLink(alicePage, 'general').click();
      await alicePage.getByTestId('composer').waitFor();

      // Bob registers and joins from the link.
      await register(bobPage, bob);
      await bobPage.goto(link);
      await expectText(bobPage.getByTestId('invite-server-name'), 'Turma do Café');
      await bobPage.getByTestId('invite-accept').click();
      await bobPage.waitForURL(/\/app\/servers\/\d+\/channels\/\d+$/);
      await waitForConnected(bobPage);
      await bobPage.getByTestId('composer').waitFor();
      // The tab names the channel and the server.
      await eventually(async () => (await bobPage.title()) === '#general | Turma do Café | Papo', 'the tab title');
      // User settings close back to the channel they were opened from.
      const bobChannelUrl = bobPage.url();
      await bobPage.getByTestId('open-settings').click();
      await bobPage.waitForURL('**/settings/**');
      // The focus is on the page's heading, and goes back to the settings button after.
      await eventually(() => bobPage.evaluate(() => document.activeElement?.classList.contains('settings-section-title')), 'focus on the heading');
      await bobPage.keyboard.press('Escape');
      await bobPage.waitForURL(bobChannelUrl);
      await bobPage.getByTestId('composer').waitFor();
      await eventually(
        () => bobPage.evaluate(() => document.activeElement?.getAttribute('data-testid') === 'open-settings'),
        'focus back on the settings button',
      );

      // They chat both ways, live; markup stays text.
      await send(alicePage, 'Oi Bob! **bem-vindo** <b>x</b>', 'Oi Bob! bem-vindo <b>x</b>');
      await expectText(messageWith(bobPage, 'bem-vindo').getByTestId('message-content'), 'Oi Bob!');
      assert.equal(await messageWith(bobPage, 'bem-vindo').locator('strong').textContent(), 'bem-vindo');
      assert.equal(await messageWith(bobPage, 'bem-vindo').locator('b').count(), 0, 'raw HTML is not rendered');
      // A screen reader hears it: the polite live region says who and what.
      await expectText(bobPage.getByTestId('message-announcement'), `${alice.username}: Oi Bob! bem-vindo`);
      await send(bobPage, 'Valeu, Alice!');
      await messageWith(alicePage, 'Valeu, Alice!').waitFor();

      // Bob reacts to Alice's message; Alice sees the count.
      await act(bobPage, 'bem-vindo', 'react-button');
      await bobPage.getByTestId('reaction-picker').getByTestId('reaction-option').first().click();
      const activeTestId = (page) => page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? null);
      assert.equal(await activeTestId(bobPage), 'react-button', 'the focus is back on the button that opened the picker');
      const aliceReaction = messageWith(alicePage, 'bem-vindo').getByTestId('reaction');
      await expectText(aliceReaction, '1');
      assert.equal(await aliceReaction.first().getAttribute('aria-pressed'), 'false');
      // From a control inside a message (his reaction), Tab forward still reaches the list's
      // tab stop before the message box.
      await messageWith(bobPage, 'bem-vindo').getByTestId('reaction').first().focus();
      let reached = null;
      for (let i = 0; i < 30 && reached === null; i++) {
        await bobPage.keyboard.press('Tab');
        const at = await activeTestId(bobPage);
        if (at === 'message' || at === 'composer') reached = at;
      }
      assert.equal(reached, 'message');

      // Bob's name on his message opens his card for Alice; Escape closes it.
      await messageWith(alicePage, 'Valeu, Alice!').getByTestId('message-author').click();
      const card = alicePage.getByTestId('member-menu');
      await expectText(card, bob.username);
      await alicePage.keyboard.press('Escape');
      await card.waitFor({ state: 'detached' });
      // Tabbing on past its last control closes it too.
      await messageWith(alicePage, 'Valeu, Alice!').getByTestId('message-author').click();
      await card.waitFor();
      for (let i = 0; i < 15 && (await card.count()) > 0; i++) await alicePage.keyboard.press('Tab');
      await card.waitFor({ state: 'detached' });

      // Alice replies to Bob; Bob sees the reply with its context.
      await act(alicePage, 'Valeu, Alice!', 'reply-button');
      await alicePage.getByTestId('reply-preview').waitFor();
      await send(alicePage, 'De nada!');
      await expectText(messageWith(bobPage, 'De nada!').getByTestId('reply-context'), 'Valeu, Alice!');

      // Alice starts another reply to Bob's message; Bob deletes it (below), which closes it.
      await act(alicePage, 'Valeu, Alice!', 'reply-button');
      await alicePage.getByTestId('reply-preview').waitFor();

      // Alice edits her first message in place, adding a mention of Bob from the editor's own
      // suggestions; Bob sees it edited, and himself mentioned.
      await act(alicePage, 'bem-vindo', 'edit-button');
      const editor = alicePage.getByTestId('edit-input');
      await editor.fill('Oi Bob! Seja bem-vindo, editado ');
      await editor.pressSequentially(`@${bob.username.slice(0, 5)}`);
      await alicePage.getByTestId('mention-option').filter({ hasText: bob.username }).waitFor();
      await editor.press('Enter');
      assert.equal(await editor.inputValue(), `Oi Bob! Seja bem-vindo, editado @${bob.username} `);
      await editor.press('Enter');
      await expectText(messageWith(bobPage, 'editado').getByTestId('message-content'), 'Seja bem-vindo, editado');
      await messageWith(bobPage, 'editado').getByTestId('edited-marker').waitFor();
      await messageWith(bobPage, 'editado').locator('.md-mention-me').waitFor();

      // Alice pins her message and unpins it from the pins panel; Escape then still closes the
      // panel, and a click outside it closes it too.
      await act(alicePage, 'editado', 'pin-button');
      await alicePage.getByTestId('pins-button').click();
      const pinsPanel = alicePage.getByTestId('pins-panel');
      await pinsPanel.getByTestId('unpin-button').click();
      await pinsPanel.getByTestId('pinned-message').waitFor({ state: 'detached' });
      await alicePage.keyboard.press('Escape');
      await pinsPanel.waitFor({ state: 'detached' });
      assert.equal(await activeTestId(alicePage), 'pins-button', 'the focus is back on the pins button');
      await alicePage.getByTestId('pins-button').click();
      await pinsPanel.waitFor();
      await alicePage.getByTestId('message-list').click({ position: { x: 5, y: 5 } });
      await pinsPanel.waitFor({ state: 'detached' });

      // Bob deletes his message (with confirmation); it disappears for Alice.
      await act(bobPage, 'Valeu, Alice!', 'delete-button');
      await bobPage.getByTestId('confirm-button').click();
      await eventually(async () => (await messageWith(alicePage, 'Valeu, Alice!').count()) === 0, 'deleted for Alice');
      await alicePage.getByTestId('reply-preview').waitFor({ state: 'detached' });

      // @everyone pings (and is drawn as a mention) only from someone allowed to: Alice, the
      // owner, not Bob.
      await send(bobPage, '@everyone olhem isto');
      await send(alicePage, '@everyone reunião');
      await messageWith(bobPage, 'reunião').getByTestId('mention').waitFor();
      assert.equal(await messageWith(alicePage, 'olhem isto').getByTestId('mention').count(), 0, 'Bob pinged no one');

      // Bob mentions Alice from the suggestions that "@" opens; she sees herself mentioned.
      const bobComposer = bobPage.getByTestId('composer');
      await bobComposer.fill('@');
      await bobComposer.pressSequentially(alice.username.slice(0, 4));
      const suggestion = bobPage.getByTestId('mention-option').filter({ hasText: alice.username });
      await suggestion.waitFor();
      assert.equal(await suggestion.getAttribute('aria-selected'), 'true');
      await bobComposer.press('Enter');
      assert.equal(await bobComposer.inputValue(), `@${alice.username} `);
      await bobComposer.pressSequentially('pode ver?');
      await bobComposer.press('Enter');
      await messageWith(alicePage, 'pode ver?').locator('.md-mention-me').waitFor();

      // Unread: Alice posts in a new channel while Bob looks at #general.
      await alicePage.getByTestId('create-channel').click();
      const createChannel = alicePage.getByRole('dialog', { name: en.channels.create.title });
      await createChannel.locator('input[name="name"]').fill('avisos');
      await createChannel.getByTestId('create-channel-submit').click();
      await createChannel.waitFor({ state: 'hidden' });
      await alicePage.getByTestId('composer').waitFor();
      await send(alicePage, 'Aula amanhã às 10h');
      const avisos = channelLink(bobPage, 'avisos');
      await avisos.waitFor();
      const channelId = await avisos.getAttribute('data-channel-id');
      const dot = bobPage.locator(`[data-testid="unread-dot"][data-channel-id="${channelId}"]`);
      await dot.waitFor();
      // #regras held only a message from before Bob joined: not unread.
      const regrasId = await channelLink(bobPage, 'regras').getAttribute('data-channel-id');
      assert.equal(await bobPage.locator(`[data-testid="unread-dot"][data-channel-id="${regrasId}"]`).count(), 0, '#regras is read');
      await avisos.click();
      await messageWith(bobPage, 'Aula amanhã').waitFor();
      // The first unread message is under the "new" divider (and today's), which stays after
      // the ack and goes when Bob writes.
      const newDivider = bobPage.getByTestId('new-divider');
      assert.match(
        (await bobPage.locator('[data-testid="new-divider"] + [data-testid="message"]').textContent()) ?? '',
        /Aula amanhã/,
      );
      assert.equal(await bobPage.getByTestId('day-divider').textContent(), en.chat.history.today);
      await dot.waitFor({ state: 'detached' });
      assert.equal(await newDivider.count(), 1, 'the divider stays once read');
      await send(bobPage, 'Anotado');
      await newDivider.waitFor({ state: 'detached' });

      assert.equal(restSends, 0, 'no message was sent over REST');
      assert.equal(gatewaySends, 9, 'every message went over the gateway');

      // Alice bans Bob from the member list; his UI loses the server at once.
      if (!(await alicePage.getByTestId('member-list').isVisible())) {
        await alicePage.getByTestId('member-list-toggle').click();
      }
      // Both are online, and each sees the other in the Online group.
      await alicePage.locator('[data-testid="member-group"][data-group="online"]').filter({ hasText: bob.username }).waitFor();
      await bobPage.locator('[data-testid="member-group"][data-group="online"]').filter({ hasText: alice.username }).waitFor();
      const bobRow = alicePage.getByTestId('member-list').getByTestId('member').filter({ hasText: bob.username });
      const bobId = await bobRow.getAttribute('data-user-id');

      // Presence changes are not replayed on resume: Alice's socket drops (and cannot come back
      // while her browser is offline) as Bob goes Do Not Disturb; her resume brings his status.
      const aliceBefore = await alicePage.evaluate(() => window.__papoGateway.info());
      await aliceCtx.setOffline(true);
      await alicePage.evaluate(() => window.__papoGateway.debugDrop());
      await bobPage.getByTestId('presence-trigger').click();
      await bobPage.getByRole('menuitemradio', { name: new RegExp(en.presence.status.dnd) }).click();
      // The server has it once Bob's own socket hears it back.
      const isBobDnd = (f) => f.op === 'event' && f.t === 'presence.updated' && f.d.user_id === bobId && f.d.status === 'dnd';
      await eventually(() => received.get(bobPage).some(isBobDnd), 'Bob is dnd on the server');
      assert.ok(received.get(bobPage).filter(isBobDnd).every((f) => f.s === undefined), 'presence carries no sequence number');
      const aliceSeen = received.get(alicePage).length;
      await aliceCtx.setOffline(false);
      await waitForConnected(alicePage, 40_000);
      const afterDrop = await alicePage.evaluate(() => window.__papoGateway.info());
      assert.equal(afterDrop.resumedCount, aliceBefore.resumedCount + 1, 'Alice resumed her session');
      const resumed = received.get(alicePage).slice(aliceSeen).find((f) => f.op === 'resumed');
      assert.equal(resumed?.d.presences.find((p) => p.user_id === bobId)?.status, 'dnd', JSON.stringify(resumed));
      await eventually(async () => (await bobRow.getAttribute('data-status')) === 'dnd', 'Alice sees Bob as dnd');

      await bobRow.click();
      await alicePage.getByTestId('member-menu').getByTestId('ban-button').click();
      await alicePage.getByTestId('confirm-button').click();
      await bobPage.waitForURL(/\/app\/?$/);
      // Home says why: the server is no longer his.
      await expectText(bobPage.getByTestId('route-notice'), 'Turma do Café');
      assert.equal(await bobPage.getByTestId('server-rail').getByRole('link', { name: 'Turma do Café' }).count(), 0);
      await eventually(async () => (await bobRow.count()) === 0, 'Bob gone from the member list');

      // The invite still shows the server to Bob, but joining is refused, and for good.
      await bobPage.goto(link);
      await bobPage.getByTestId('invite-accept').click();
      await bobPage.getByRole('alert').filter({ hasText: /banned/i }).waitFor();
      assert.equal(await bobPage.getByTestId('invite-accept').isDisabled(), true, 'no second try');
    });
    problems.push(...aliceProblems, ...bobProblems);
    assert.deepEqual(problems, []);
    await aliceCtx.close();
    await bobCtx.close();
  });

  test('a channel opens at its newest message, under its welcome', { timeout: 120_000 }, async () => {
    // A history longer than the view but all on its first page: the channel's welcome
    // appears above the messages once that page shows nothing older. It used to push the
    // list up by its own height, so the channel opened short of its newest message.
    const user = freshUser('scroll');
    const api = async (route, body, token, method = 'POST') => {
      const response = await fetch(`${papo.url}/api/v1${route}`, {
        method,
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
      const text = await response.text();
      assert.ok(response.ok, `${route}: ${response.status} ${text}`);
      return text ? JSON.parse(text) : null;
    };
    const { access_token: token } = await api('/auth/register', user);
    const server = await api('/servers', { name: 'Mural' }, token);
    const general = server.channels.find((c) => c.kind === 'text');
    const long = 'uma frase comprida que dobra a linha várias vezes '.repeat(40);
    for (let i = 1; i <= 8; i++) await api(`/channels/${general.id}/messages`, { content: `${i}: ${long}` }, token);
    await api(`/channels/${general.id}/messages`, { content: 'a última mensagem' }, token);

    const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    const problems = watch(page, 'page');
    await withDiagnostics(papo, 'chat-scroll', () => [page], async () => {
      await page.goto(`${papo.url}/login`);
      await page.locator('input[name="login"]').fill(user.username);
      await page.locator('input[name="password"]').fill(user.password);
      await page.getByTestId('login-form').locator('button[type="submit"]').click();
      await page.waitForURL('**/app');
      const list = page.getByTestId('message-list');
      const fromBottom = () => list.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
      for (const open of ['from the rail', 'after a reload']) {
        if (open === 'from the rail') await page.getByTestId('server-rail').getByRole('link', { name: 'Mural' }).click();
        else await page.reload();
        await page.getByTestId('channel-welcome').waitFor();
        await messageWith(page, 'a última mensagem').waitFor();
        assert.ok(await list.evaluate((el) => el.scrollHeight > el.clientHeight * 2), 'the history is longer than the view');
        // Settled: the same offset twice, 300 ms apart.
        let last = null;
        await eventually(async () => {
          const now = await fromBottom();
          const settled = now === last;
          last = now;
          if (!settled) await page.waitForTimeout(300);
          return settled;
        }, 'the list settles');
        assert.ok(last <= 2, `${open}: ${last} px short of the newest message`);
      }
      // The list is one tab stop, the newest message; the arrows, Home and End walk it, and
      // the tab stop follows the focus.
      const tabStops = () => list.locator('[data-testid="message"][tabindex="0"]');
      assert.equal(await tabStops().count(), 1);
      assert.match((await tabStops().textContent()) ?? '', /a última mensagem/);
      await tabStops().focus();
      await page.keyboard.press('ArrowUp');
      const focused = () => page.evaluate(() => document.activeElement?.textContent ?? '');
      assert.match(await focused(), /^.*8: uma frase/);
      await page.keyboard.press('Home');
      assert.match(await focused(), /1: uma frase/);
      assert.equal(await tabStops().count(), 1);
      assert.match((await tabStops().textContent()) ?? '', /1: uma frase/);
      await page.keyboard.press('End');
      assert.match(await focused(), /a última mensagem/);

      // After an edit, the view shrinking (a phone's keyboard opening) keeps the newest
      // messages in view (the browser's own adjustment was taken for a scroll up).
      await send(page, 'minha mensagem');
      await act(page, 'minha mensagem', 'edit-button');
      const editInput = page.getByTestId('edit-input');
      await editInput.press('End');
      await editInput.pressSequentially(' editada');
      await editInput.press('Enter');
      await messageWith(page, 'minha mensagem editada').waitFor();
      await page.getByTestId('composer').click();
      const size = page.viewportSize();
      await page.setViewportSize({ width: size.width, height: Math.round(size.height * 0.55) });
      await page.waitForTimeout(800);
      assert.ok((await fromBottom()) <= 2, `${await fromBottom()} px short of the newest message`);
      await page.setViewportSize(size);

      // A mentionable role is suggested after @ and goes out as a role mention.
      const role = await api(`/servers/${server.id}/roles`, { name: 'Monitores Gerais', mentionable: true }, token);
      const composer = page.getByTestId('composer');
      await composer.pressSequentially('oi @moni');
      await page.getByTestId('mention-option').filter({ hasText: '@Monitores Gerais' }).waitFor();
      await composer.press('Enter');
      assert.equal(await composer.inputValue(), 'oi @Monitores Gerais ');
      await composer.press('Enter');
      await page.locator(`[data-testid="mention"][data-role-id="${role.id}"]`).waitFor();

      // A list is drawn as one.
      await api(`/channels/${general.id}/messages`, { content: 'Levar:\n- pão\n- café' }, token);
      await eventually(async () => (await messageWith(page, 'Levar:').locator('ul.md-list li').count()) === 2, 'a list of two items');

      // Unsent text is kept per channel, through a switch of channel and a reload.
      await api(`/servers/${server.id}/channels`, { name: 'outro', kind: 'text' }, token);
      await composer.fill('rascunho guardado');
      await channelLink(page, 'outro').click();
      await eventually(async () => (await composer.inputValue()) === '', 'another channel, another box');
      await channelLink(page, 'general').click();
      await eventually(async () => (await composer.inputValue()) === 'rascunho guardado', 'the draft is back');
      await page.waitForTimeout(600); // kept on the device once typing pauses
      await page.reload();
      await eventually(async () => (await composer.inputValue().catch(() => '')) === 'rascunho guardado', 'the draft survives a reload');
      await composer.fill('');

      // Someone else writes a lot while the user is in another channel: opening the channel
      // shows the latest, and a bar over the history says how many are new; marking them
      // read takes the bar and the divider away.
      const other = freshUser('other');
      const { access_token: otherToken, user: otherUser } = await api('/auth/register', other);
      const invite = await api(`/servers/${server.id}/invites`, {}, token);
      await api(`/invites/${invite.code}/accept`, {}, otherToken);
      await channelLink(page, 'outro').click();
      await eventually(async () => (await composer.getAttribute('placeholder'))?.includes('outro'), 'in #outro');
      for (let i = 1; i <= 8; i++) await api(`/channels/${general.id}/messages`, { content: `novidade ${i}: ${long}` }, otherToken);
      await channelLink(page, 'general').click();
      const bar = page.getByTestId('new-messages-bar');
      await expectText(bar, '8 new messages since');
      // Scrolled up with the divider far below, the page itself does not grow (the divider's
      // label for screen readers was placed outside the list and made the whole app scroll).
      await list.evaluate((el) => {
        el.scrollTop = 0;
      });
      await page.getByTestId('jump-to-present').waitFor();
      assert.equal(await page.evaluate(() => document.scrollingElement.scrollHeight - window.innerHeight), 0, 'the page does not scroll');
      await list.evaluate((el) => {
        el.scrollTop = el.scrollHeight;
      });
      await page.getByTestId('jump-to-present').waitFor({ state: 'detached' });
      await bar.getByTestId('mark-read').click();
      await bar.waitFor({ state: 'detached' });
      assert.equal(await page.getByTestId('new-divider').count(), 0);

      // Scrolled up, the user is not reading what comes: a mention stays unread until they
      // scroll down to it (it was acknowledged at once, badge and all).
      const authorized = { headers: { authorization: `Bearer ${token}` } };
      const me = await (await fetch(`${papo.url}/api/v1/users/@me`, authorized)).json();
      const mentionsInGeneral = async () => {
        const states = await (await fetch(`${papo.url}/api/v1/users/@me/read-states`, authorized)).json();
        return states.find((s) => s.channel_id === general.id)?.mention_count;
      };
      await list.evaluate((el) => {
        el.scrollTop = 0;
      });
      // The list has seen the scroll (else the message would bring it down to the bottom).
      await page.getByTestId('jump-to-present').waitFor();
      await api(`/channels/${general.id}/messages`, { content: `<@${me.id}> olha aqui` }, otherToken);
      await messageWith(page, 'olha aqui').waitFor({ state: 'attached' });
      // The button down says that something came below (it said only "Jump to present").
      await expectText(page.getByTestId('jump-to-present'), '1 new message below');
      await page.waitForTimeout(2_500); // past the ack's debounce
      assert.equal(await mentionsInGeneral(), 1, 'still unread while scrolled up');
      await list.evaluate((el) => {
        el.scrollTop = el.scrollHeight;
      });
      await eventually(async () => (await mentionsInGeneral()) === 0, 'read once scrolled down to it');
      await page.getByTestId('jump-to-present').waitFor({ state: 'detached' });

      // Leaving a channel scrolled up and coming back shows the same place (not the bottom).
      await list.evaluate((el) => {
        el.scrollTop = 0;
      });
      await page.getByTestId('jump-to-present').waitFor();
      const firstShown = () =>
        list.evaluate((el) => {
          const top = el.getBoundingClientRect().top;
          const rows = [...el.querySelectorAll('[data-key]')];
          return rows.find((r) => r.getBoundingClientRect().bottom > top)?.getAttribute('data-key') ?? null;
        });
      const before = await firstShown();
      await channelLink(page, 'outro').click();
      await eventually(async () => (await composer.getAttribute('placeholder'))?.includes('outro'), 'in #outro');
      await channelLink(page, 'general').click();
      await page.getByTestId('jump-to-present').waitFor();
      assert.equal(await firstShown(), before, 'the same message at the top');
      assert.ok((await fromBottom()) > 200, 'still scrolled up');

      // A new display name shows at once on the messages already there (they kept the old one
      // until a reload).
      const renamed = await fetch(`${papo.url}/api/v1/users/@me`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${otherToken}` },
        body: JSON.stringify({ display_name: 'Outro Nome' }),
      });
      assert.equal(renamed.status, 200);
      await expectText(messageWith(page, 'novidade 1:').locator('.message-author'), 'Outro Nome');

      // A nickname set before the page loaded (no event about it since) names the author.
      const nicked = await fetch(`${papo.url}/api/v1/servers/${server.id}/members/${otherUser.id}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ nickname: 'Outrinho' }),
      });
      assert.equal(nicked.status, 200);
      await page.reload();
      await expectText(messageWith(page, 'novidade 1:').locator('.message-author'), 'Outrinho');

      // The server stalls (its socket stays open): a send that hears nothing back brings the
      // "reconnecting" banner within seconds (it took until the next heartbeat, 30 s and
      // more); once the server is back, the message is stored once and the banner goes.
      process.kill(papo.pid, 'SIGSTOP');
      const stalledAt = Date.now();
      try {
        await composer.fill('durante a pausa');
        await composer.press('Enter');
        await page.getByTestId('gateway-banner').waitFor({ state: 'visible', timeout: 20_000 });
      } finally {
        process.kill(papo.pid, 'SIGCONT');
      }
      assert.ok(Date.now() - stalledAt < 20_000);
      await page.getByTestId('gateway-banner').waitFor({ state: 'hidden', timeout: 30_000 });
      await eventually(
        async () =>
          (await messageWith(page, 'durante a pausa').count()) === 1 &&
          (await messageWith(page, 'durante a pausa').first().getAttribute('data-pending')) !== 'true',
        'the message sent during the stall is stored once',
        30_000,
      );

      // A bio's markdown is drawn in the member card, not shown raw.
      const patched = await fetch(`${papo.url}/api/v1/users/@me`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ bio: 'Gosto de **café** e `código`' }),
      });
      assert.equal(patched.status, 200);
      if (!(await page.getByTestId('member-list').isVisible())) await page.getByTestId('member-list-toggle').click();
      await page.getByTestId('member-list').getByTestId('member').filter({ hasText: user.username }).click();
      const bio = page.getByTestId('member-menu').getByTestId('member-bio');
      assert.equal(await bio.locator('strong').textContent(), 'café');
      assert.equal(await bio.locator('code').textContent(), 'código');
      await page.keyboard.press('Escape');

      // A channel with permissions of its own in a category: its permissions page says it
      // does not follow the category, and syncing it makes it follow again.
      const category = await api(`/servers/${server.id}/channels`, { name: 'Leitura', kind: 'category' }, token);
      await api(`/channels/${category.id}/permissions/${server.id}`, { type: 'role', deny: '2048' }, token, 'PUT');
      const own = await api(`/servers/${server.id}/channels`, { name: 'livre', kind: 'text', parent_id: category.id }, token);
      await api(`/channels/${own.id}/permissions/${server.id}`, { type: 'role', allow: '2048' }, token, 'PUT');
      const serverPath = new URL(page.url()).pathname.replace(/\/channels\/\d+$/, '');
      await page.goto(`${papo.url}${serverPath}/settings/permissions?channel=${own.id}`);
      const sync = page.getByTestId('overwrite-sync');
      await expectText(sync, 'Not synced with the category Leitura');
      await sync.getByTestId('overwrite-sync-button').click();
      await page.getByTestId('overwrite-sync-dialog').getByTestId('confirm-button').click();
      await expectText(sync, 'Synced with the category Leitura');
      assert.equal(await sync.getAttribute('data-synced'), 'true');
      const detail = await (await fetch(`${papo.url}/api/v1/servers/${server.id}`, { headers: { authorization: `Bearer ${token}` } })).json();
      const stored = detail.channels.find((c) => c.id === own.id);
      assert.deepEqual(stored.overwrites.map((o) => [o.id, o.allow, o.deny]), [[server.id, '0', '2048']]);
      // Adding a role to the channel's permissions moves the focus to its editor (the select
      // it was picked in resets, and the focus was left on it, far from the editor).
      const readers = await api(`/servers/${server.id}/roles`, { name: 'Leitores' }, token);
      await page.getByTestId('overwrite-add-role').selectOption(readers.id);
      await eventually(
        () => page.evaluate(() => document.activeElement?.getAttribute('data-testid') === 'overwrite-editor-title'),
        "the new role's editor has the focus",
      );

      // The audit log's pin entry links to the message (it showed its raw id): the link opens
      // the channel at that message, which gets the focus.
      const pinned = await api(`/channels/${general.id}/messages`, { content: 'fixada para o registro' }, token);
      await api(`/channels/${general.id}/pins/${pinned.id}`, {}, token, 'PUT');
      await page.goto(`${papo.url}${serverPath}/settings/audit-log`);
      const pinEntry = page.locator('[data-testid="audit-entry"][data-action="message_pin"]');
      await pinEntry.getByTestId('audit-message-link').click();
      await page.waitForURL(`**/channels/${general.id}`);
      await eventually(
        () => page.evaluate((id) => document.activeElement?.getAttribute('data-message-id') === id, pinned.id),
        'the linked message has the focus',
      );
    });
    assert.deepEqual(problems, []);
    await context.close();
  });
});
