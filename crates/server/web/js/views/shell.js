// The signed-in layout: a sidebar (who I am, settings, connection state,
// the notifications control, search, the chat list, new chat) and the
// conversation pane. Below ~700px only one of the two panes shows at a
// time (the open chat, or the list).

import * as notify from '../notify.js';
import * as ws from '../ws.js';
import { h } from '../dom.js';
import { emit, on, state } from '../state/store.js';
import { mountChatList } from './chatlist.js';
import { mountConversation } from './conversation.js';
import { mountSearch } from './search.js';
import { openNewChat } from './newchat.js';
import { openSettings } from './settings.js';
import { myAvatar } from './profile.js';
import { clearMarkWhenOpened } from '../chatflags.js';
import { installShortcuts } from './shortcuts.js';

/**
 * @param {HTMLElement} root
 * @param {{ onLogout: () => void }} actions
 */
export function renderShell(root, actions) {
  const meBlock = h('div', { class: 'me' });
  // Who I am, again whenever my profile changes (Settings > Profile).
  const showMe = () => {
    const me = /** @type {import('../types.js').User} */ (state.me);
    meBlock.replaceChildren(myAvatar(me),
      h('div', { class: 'me-names' },
        h('strong', { text: me.display_name }),
        h('span', { class: 'muted', text: `@${me.username}` })));
  };
  showMe();
  const offMe = on('me', () => {
    if (meBlock.isConnected && state.me) showMe();
    else offMe();
  });
  const banner = h('div', { class: 'conn-banner', role: 'status', hidden: true });
  const notifyControl = mountNotifyControl();
  const listHost = h('nav', { class: 'chat-list-host', 'aria-label': 'Chats' });
  const searchHost = h('div', { class: 'search-results-host', hidden: true });
  const sidebar = h('aside', { class: 'sidebar' },
    h('header', { class: 'sidebar-head' },
      meBlock,
      h('button', { type: 'button', class: 'ghost', text: 'Settings', on: { click: () => openSettings() } }),
      h('button', { type: 'button', class: 'ghost', text: 'Log out', on: { click: actions.onLogout } })),
    banner, notifyControl);
  const main = h('main', { class: 'pane-main' });
  const shell = h('div', { class: 'shell' }, sidebar, main);
  root.replaceChildren(shell);

  const tools = h('div', { class: 'sidebar-tools' });
  sidebar.append(tools);
  mountSearch(tools, listHost, searchHost);
  tools.append(h('button', { type: 'button', class: 'primary new-chat-button', text: 'New chat', on: { click: () => openNewChat() } }));
  sidebar.append(listHost, searchHost);
  mountChatList(listHost);
  installShortcuts();
  clearMarkWhenOpened();
  mountConversation(main);

  const showPane = () => {
    shell.dataset.pane = state.activeChatId ? 'chat' : 'list';
  };
  on('active', showPane);
  showPane();

  let wasOnline = false;
  on('connection', (/** @type {{ status: string, retryInMs?: number }} */ detail) => {
    banner.replaceChildren();
    // The first connection needs no banner unless it keeps failing.
    const quiet = detail.status === 'connecting' && !wasOnline && !detail.retryInMs;
    if (detail.status === 'online') wasOnline = true;
    if (detail.status === 'online' || quiet) {
      banner.hidden = true;
      return;
    }
    banner.hidden = false;
    const text = detail.status === 'offline'
      ? 'You are offline. Messages will be sent when the connection is back.'
      : detail.retryInMs
        ? `Reconnecting in ${Math.ceil(detail.retryInMs / 1000)} s…`
        : 'Connecting…';
    banner.append(h('span', { text }));
    if (detail.status === 'connecting' && detail.retryInMs) {
      banner.append(h('button', { type: 'button', class: 'link', text: 'Reconnect now', on: { click: () => ws.reconnectNow() } }));
    }
  });
  emit('connection', { status: state.connection });
}

/**
 * "Enable notifications", and once asked, where it stands (setting up,
 * on) with a way to turn it off again.
 * @returns {HTMLElement}
 */
function mountNotifyControl() {
  const status = h('span', { class: 'notify-status', role: 'status' });
  const error = h('span', { class: 'form-error small', role: 'alert' });
  const button = h('button', { type: 'button', class: 'small-button' });
  const box = h('div', { class: 'notify-control' }, status, button, error);
  let busy = false;

  const render = () => {
    const control = notify.control();
    box.hidden = control === 'none';
    button.disabled = busy;
    status.textContent = control === 'on' ? 'Notifications are on.'
      : control === 'pending' ? 'Turning notifications on…'
        : 'Notifications are off.';
    button.textContent = control === 'enable' ? 'Enable notifications' : 'Turn off notifications';
  };

  button.addEventListener('click', async () => {
    const turningOn = notify.control() === 'enable';
    busy = true;
    error.textContent = '';
    render();
    try {
      if (turningOn) await notify.enable();
      else await notify.disable();
    } catch (failure) {
      error.textContent = turningOn
        ? `Notifications could not be turned on${failure instanceof Error && failure.message ? `: ${failure.message}` : '.'}`
        : 'Notifications could not be turned off.';
    } finally {
      busy = false;
      render();
    }
  });
  on('push', render);
  // In-page permission changes show up as a chats render (notify.ask).
  on('chats', render);
  render();
  return box;
}
