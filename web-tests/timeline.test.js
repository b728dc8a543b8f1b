// The history window's rules against the change cursor, without a
// browser (state/timeline.js is pure data): an older copy of a message,
// say a page fetched before a live edit arrived, never overwrites the
// newer one (nor brings a deleted one back), and a reaction event already
// reflected in the message (its version is not newer) changes nothing.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { react, replace, tombstone, windowFrom } from '../crates/server/web/js/state/timeline.js';

/** @returns {import('../crates/server/web/js/types.js').Message} */
function message(seq, version, content, reactions = []) {
  return /** @type {any} */ ({
    message_id: `m${seq}`, chat_id: 'c', seq, version, sender_id: 'alice', type: 'text',
    content, reactions, deleted: false,
  });
}

test('an older copy of a message does not overwrite a newer one', () => {
  const window = windowFrom([message(1, 1, 'first')], 1, false);
  replace(window, message(1, 5, 'edited'));
  assert.equal(window.messages.get(1)?.content, 'edited');
  replace(window, message(1, 3, 'stale page'));
  assert.equal(window.messages.get(1)?.content, 'edited', 'a stale copy won');
  replace(window, message(1, 5, 'same version, fresh status'));
  assert.equal(window.messages.get(1)?.content, 'same version, fresh status');
});

test('a reaction already in the message is not applied twice, a newer one is', () => {
  const liked = message(1, 4, 'hi', [{ emoji: '👍', count: 1, user_ids: ['bob'] }]);
  // Bob's like (version 3) and unlike (version 4) are both in the copy.
  assert.equal(react(liked, '👍', 'bob', true, 3), liked, 'an old event re-applied');
  const unliked = react(liked, '👍', 'bob', false, 5);
  assert.deepEqual(unliked.reactions, []);
  assert.equal(unliked.version, 5);
  assert.equal(react(unliked, '👍', 'bob', true, 4), unliked, 'an old add resurrected the like');
});

test('a tombstone takes the deletion version, and a copy from before it does not bring the message back', () => {
  const window = windowFrom([message(1, 6, 'doomed')], 1, false);
  tombstone(window, 1, 7);
  assert.equal(window.messages.get(1)?.deleted, true);
  assert.equal(window.messages.get(1)?.version, 7);
  // A page fetched before the deletion arrives after it.
  replace(window, message(1, 6, 'doomed'));
  assert.equal(window.messages.get(1)?.deleted, true, 'the deleted message came back');
});
