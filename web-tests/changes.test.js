// The change cursor in the web client: someone who was offline while
// older messages were edited, deleted and reacted to sees all three when
// the connection is back, also on messages far above the newest page
// (the resume fetches `changed_after=V`, not just the newest page again).
// Every check reads the screen.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  api, launchBrowser, messageItem, person, pool, registerApi, signUp, startServer, until, visible,
} from './helpers.js';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** More than a page (50), so the first ones are out of reach of a
 * refresh of the newest page. */
const COUNT = 70;

test('edits, deletes and reactions made while offline show when the connection is back', async () => {
  const alice = await registerApi(server.url, 'alice', 'Alice Liddell');
  const bob = await person(browser, server.url);
  await signUp(bob.page, 'bob', 'Bob Builder');
  const found = await api(server.url, alice.token, 'GET', '/users?q=bob');
  const chat = await api(server.url, alice.token, 'POST', '/chats', { type: 'direct', member_ids: [found.users[0].user_id] });
  /** @type {string[]} */
  const ids = new Array(COUNT);
  await pool([...Array(COUNT).keys()], 1, async (i) => {
    const ack = await api(server.url, alice.token, 'POST', '/messages', {
      chat_id: chat.chat_id, content: `#${i + 1} note`, client_msg_id: `note-${i + 1}`,
    });
    ids[i] = ack.message_id;
  });

  await bob.page.getByRole('link', { name: /Alice Liddell/ }).click();
  await visible(messageItem(bob.page, `#${COUNT} note`), 20_000);
  // Load the older pages, so the first notes are in the window.
  await until(async () => {
    await bob.page.locator('.timeline').evaluate((node) => { node.scrollTop = 0; });
    return (await messageItem(bob.page, '#1 note').count()) > 0;
  }, 'the oldest note to load', 20_000);

  await bob.context.setOffline(true);
  await visible(bob.page.getByText('You are offline'));
  await api(server.url, alice.token, 'PATCH', `/messages/${ids[1]}`, { content: '#2 note, corrected' });
  await api(server.url, alice.token, 'DELETE', `/messages/${ids[2]}`);
  await api(server.url, alice.token, 'PUT', `/messages/${ids[3]}/reactions/${encodeURIComponent('🎉')}`);
  await api(server.url, alice.token, 'PATCH', `/messages/${ids[COUNT - 1]}`, { content: `#${COUNT} note, corrected` });
  assert.equal(await messageItem(bob.page, '#2 note, corrected').count(), 0);
  await bob.context.setOffline(false);

  await visible(messageItem(bob.page, '#2 note, corrected'), 20_000);
  await visible(messageItem(bob.page, `#${COUNT} note, corrected`));
  await visible(messageItem(bob.page, '#4 note').getByRole('button', { name: '🎉 1' }));
  assert.equal(await messageItem(bob.page, '#3 note').count(), 0, 'the deleted note is gone');
  assert.ok(await bob.page.getByText('This message was deleted').count() >= 1);
  assert.ok(await messageItem(bob.page, '#2 note, corrected').getByText('edited').count() >= 1);
  const fetched = await bob.page.evaluate(() => performance.getEntriesByType('resource')
    .some((entry) => /\/messages\?changed_after=\d+/.test(entry.name)));
  assert.ok(fetched, 'the changes were fetched with changed_after=V');
});
