// Message formatting (issue 15 item 3): what one person types with
// **bold**, _italic_, `code`, fenced blocks, quotes, lists and links, the
// others see formatted, safely (no HTML from text, links only http(s),
// opened in a new tab without opener or referrer), while the stored text
// stays as typed for search and other clients. Also the renderer's edge
// cases, checked in the page by importing its modules, and the phone
// layout of a wide code block.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  PASSWORD, api, artifacts, launchBrowser, person, registerApi, startServer, until, visible,
} from './helpers.js';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {Record<string, { token: string, user: any }>} */
const accounts = {};
/** @type {string} */
let chatId;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  accounts.alice = await registerApi(server.url, 'alice', 'Alice Liddell');
  accounts.bob = await registerApi(server.url, 'bob', 'Bob Builder');
  accounts.carol = await registerApi(server.url, 'carol', 'Carol Danvers');
  const chat = await api(server.url, accounts.alice.token, 'POST', '/chats', {
    type: 'group', name: 'Release team', member_ids: [accounts.bob.user.user_id, accounts.carol.user.user_id],
  });
  chatId = chat.chat_id;
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/**
 * Opens the web client as `username` and the group.
 * @param {string} username @param {{ width: number, height: number }} [viewport]
 */
async function openGroup(username, viewport) {
  const someone = await person(browser, server.url, viewport);
  await someone.page.getByLabel('Username').fill(username);
  await someone.page.getByLabel('Password').fill(PASSWORD);
  await someone.page.getByRole('button', { name: 'Log in' }).click();
  await someone.page.getByRole('link', { name: /Release team/ }).click();
  await visible(someone.page.getByRole('heading', { name: 'Release team' }));
  return someone;
}

/** The message whose body contains `text` (formatted bodies are not all `p.text`).
 * @param {import('playwright-core').Page} page @param {string} text */
const item = (page, text) => page.locator('li.msg').filter({ has: page.locator('.text', { hasText: text }) });

const TYPED = [
  'Release notes, @bob: **ship it** today, _carefully_ and *calmly*.',
  'Run `cargo test --locked` first; details on www.example.org and https://example.com/docs?q=a_b_c.',
  '```',
  'fn main() {',
  '    println!("**not bold** <b>nor html</b>");',
  '}',
  '```',
  '> Quality is never an accident',
  '- build',
  '- test',
  '3. tag',
  '4. publish',
  'Thanks! <img src=x onerror=alert(1)> stays text, and so does javascript:alert(1)',
].join('\n');

test('what one person types with formatting, the others see formatted', async () => {
  const alice = await openGroup('alice');
  const bob = await openGroup('bob');
  const input = alice.page.getByRole('textbox', { name: 'Message' });
  await visible(alice.page.locator('.composer-hint').getByText('**bold**'));
  await input.fill(TYPED);
  await input.press('Enter');

  const message = item(bob.page, 'Release notes');
  await visible(message);
  const body = message.locator('.text');
  assert.equal(await body.locator('strong').first().textContent(), 'ship it');
  assert.deepEqual(await body.locator('em').allTextContents(), ['carefully', 'calmly']);
  await visible(body.locator('.mention', { hasText: '@bob' }));
  assert.equal(await body.locator('code.inline-code').textContent(), 'cargo test --locked');
  // The code block shows its insides exactly as typed, markers and tags included.
  assert.equal(await body.locator('pre code').textContent(), 'fn main() {\n    println!("**not bold** <b>nor html</b>");\n}');
  assert.equal(await body.locator('pre strong, pre b').count(), 0);
  assert.equal(await body.locator('blockquote').textContent(), 'Quality is never an accident');
  assert.deepEqual(await body.locator('ul > li').allTextContents(), ['build', 'test']);
  assert.deepEqual(await body.locator('ol > li').allTextContents(), ['tag', 'publish']);
  assert.equal(await body.locator('ol').getAttribute('start'), '3');
  // Nothing in the text became markup: no image, the "<img ...>" is there to read.
  assert.equal(await body.locator('img, b').count(), 0);
  await visible(body.getByText('<img src=x onerror=alert(1)> stays text', { exact: false }));

  const www = body.getByRole('link', { name: 'www.example.org' });
  assert.equal(await www.getAttribute('href'), 'https://www.example.org');
  const docs = body.getByRole('link', { name: 'https://example.com/docs?q=a_b_c' });
  assert.equal(await docs.getAttribute('href'), 'https://example.com/docs?q=a_b_c');
  for (const link of [www, docs]) {
    assert.equal(await link.getAttribute('target'), '_blank');
    assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');
  }
  assert.equal(await body.getByRole('link').count(), 2, 'javascript: is not a link');
  await bob.page.screenshot({ path: path.join(artifacts, 'format-group.png') });

  // The sender sees the same formatting on their own message.
  await visible(item(alice.page, 'Release notes').locator('strong', { hasText: 'ship it' }));

  // The chat list preview reads as text, without the markers.
  const row = bob.page.getByRole('link', { name: /Release team/ });
  await visible(row.getByText('ship it today, carefully and calmly', { exact: false }));
  assert.equal((await row.textContent())?.includes('**ship it**'), false);

  // Stored as typed: another client and search see the original text.
  const page = await api(server.url, accounts.carol.token, 'GET', `/chats/${chatId}/messages`);
  assert.equal(page.messages.at(-1).content, TYPED);
  const found = await until(async () => {
    const answer = await api(server.url, accounts.carol.token, 'GET', '/search/messages?q=carefully');
    return answer.results.length ? answer.results : null;
  }, 'search to find the message');
  assert.equal(found[0].message.content, TYPED);

  assert.deepEqual(alice.errors, []);
  assert.deepEqual(bob.errors, []);
  await alice.context.close();
  await bob.context.close();
});

test('the renderer leaves ordinary text alone and never parses HTML', async () => {
  const carol = await openGroup('carol');
  const results = await carol.page.evaluate(async () => {
    const { formattedText } = await import('/assets/js/views/markup.js');
    const { plainText } = await import('/assets/js/markup.js');
    /** @param {string} text @param {string[]} [mentions] */
    const show = (text, mentions = []) => {
      const node = formattedText(text, new Set(mentions));
      /** @param {Node} n @returns {string} */
      const shape = (n) => n.nodeType === Node.TEXT_NODE ? JSON.stringify(n.textContent)
        : `${/** @type {Element} */ (n).localName}${/** @type {Element} */ (n).localName === 'a' ? `[${/** @type {Element} */ (n).getAttribute('href')}]` : ''}(${Array.from(n.childNodes, shape).join(',')})`;
      return shape(node);
    };
    const long = '*a '.repeat(4000);
    return {
      snake: show('use snake_case_names and 2*3*4'),
      spaced: show('a * b * c and _ d _'),
      lines: show('**no\nbold** here'),
      nested: show('**bold _and italic_**'),
      codeWins: show('`**x**` and `https://a.example`'),
      paren: show('see https://en.wikipedia.org/wiki/Rust_(programming_language).'),
      inBrackets: show('(https://example.com/x)'),
      email: show('mail bob@www.example.com'),
      mentionUnderscore: show('_hi @bob_smith_', ['bob_smith']),
      notMentioned: show('@dave is not in metadata'),
      unclosed: show('```\nno end'),
      oneLine: show('```let x = 1;```'),
      html: show('<script>alert(1)</script> &amp;'),
      blank: show('one\n\ntwo'),
      year: show('2024. What a year'),
      face: show('>_< oops'),
      quoteBlank: show('> first\n>\n> third\nafter'),
      fences: show('```\n'.repeat(3) + 'x'),
      plain: plainText('**Ship** _it_ `now`\n- a\n- b'),
      long: formattedText(long, new Set()).textContent === long,
    };
  });
  assert.equal(results.snake, 'p("use snake_case_names and 2*3*4")');
  assert.equal(results.spaced, 'p("a * b * c and _ d _")');
  assert.equal(results.lines, 'p("**no\\nbold** here")');
  assert.equal(results.nested, 'p(strong("bold ",em("and italic")))');
  assert.equal(results.codeWins, 'p(code("**x**")," and ",code("https://a.example"))');
  assert.equal(results.paren,
    'p("see ",a[https://en.wikipedia.org/wiki/Rust_(programming_language)]("https://en.wikipedia.org/wiki/Rust_(programming_language)"),".")');
  assert.equal(results.inBrackets, 'p("(",a[https://example.com/x]("https://example.com/x"),")")');
  assert.equal(results.email, 'p("mail bob@www.example.com")');
  assert.equal(results.mentionUnderscore, 'p(em("hi ",span("@bob_smith")))');
  assert.equal(results.notMentioned, 'p("@dave is not in metadata")');
  assert.equal(results.unclosed, 'p("```\\nno end")');
  assert.equal(results.oneLine, 'div(pre(code("let x = 1;")))');
  assert.equal(results.html, 'p("<script>alert(1)</script> &amp;")');
  assert.equal(results.blank, 'p("one\\n\\ntwo")');
  assert.equal(results.year, 'p("2024. What a year")');
  assert.equal(results.face, 'p(">_< oops")');
  assert.equal(results.quoteBlank, 'div(blockquote("first\\n\\nthird"),p("after"))');
  assert.equal(results.fences, 'div(pre(code()),p("```\\nx"))');
  assert.equal(results.plain, 'Ship it now a, b');
  assert.equal(results.long, true, 'many unmatched markers render as the text itself');
  assert.deepEqual(carol.errors, []);
  await carol.context.close();
});

test('on a phone a wide code block scrolls inside the bubble, not the page', async () => {
  await api(server.url, accounts.bob.token, 'POST', '/messages', {
    chat_id: chatId, client_msg_id: 'wide-code',
    content: `Log:\n\`\`\`\n${'error[E0425]: cannot find value `x` in this scope '.repeat(4)}\n\`\`\``,
  });
  const carol = await openGroup('carol', { width: 390, height: 780 });
  const block = item(carol.page, 'Log:').locator('pre.code-block');
  await visible(block);
  const sizes = await block.evaluate((node) => ({
    scroll: node.scrollWidth, client: node.clientWidth, right: node.getBoundingClientRect().right,
    page: document.documentElement.scrollWidth, viewport: window.innerWidth,
  }));
  assert.ok(sizes.scroll > sizes.client, 'the long line scrolls inside the block');
  assert.ok(sizes.right <= sizes.viewport, 'the block stays on screen');
  assert.ok(sizes.page <= sizes.viewport, 'the page does not scroll sideways');
  await carol.page.screenshot({ path: path.join(artifacts, 'format-phone.png') });
  assert.deepEqual(carol.errors, []);
  await carol.context.close();
});
