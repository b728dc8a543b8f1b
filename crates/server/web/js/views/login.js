// The sign-in screen: log in, or sign up with an optional display name;
// either names this browser as a device. On success the session is saved
// and `onSignedIn` takes over.

import * as api from '../api.js';
import * as session from '../session.js';
import { deviceName } from '../device.js';
import { h } from '../dom.js';

/**
 * @param {HTMLElement} root
 * @param {(user: import('../types.js').User) => void} onSignedIn
 */
export function renderLogin(root, onSignedIn) {
  let mode = /** @type {'login' | 'signup'} */ ('login');
  const heading = h('h1', { id: 'auth-title' });
  const intro = h('p', { class: 'auth-intro' });
  const username = h('input', {
    id: 'auth-username', name: 'username', autocomplete: 'username', required: true,
    autocapitalize: 'none', spellcheck: 'false', minlength: 3, maxlength: 32,
  });
  const password = h('input', { id: 'auth-password', name: 'password', type: 'password', required: true, minlength: 8 });
  const displayName = h('input', { id: 'auth-display-name', name: 'display_name', autocomplete: 'name', maxlength: 64 });
  const displayRow = h('div', { class: 'field' },
    h('label', { for: 'auth-display-name', text: 'Display name (optional)' }), displayName);
  const error = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'primary' });
  const switcher = h('button', { type: 'button', class: 'link', on: { click: () => setMode(mode === 'login' ? 'signup' : 'login') } });

  const form = h('form', { class: 'auth-form', 'aria-labelledby': 'auth-title', on: { submit: onSubmit } },
    heading, intro,
    h('div', { class: 'field' }, h('label', { for: 'auth-username', text: 'Username' }), username),
    h('div', { class: 'field' }, h('label', { for: 'auth-password', text: 'Password' }), password),
    displayRow, error, submit,
    h('p', { class: 'auth-switch' }, switcher));

  /** @param {'login' | 'signup'} next */
  function setMode(next) {
    mode = next;
    const signup = mode === 'signup';
    heading.textContent = signup ? 'Create your natter account' : 'Log in to natter';
    intro.textContent = signup
      ? 'Usernames use 3 to 32 of a–z, 0–9, _ . and -. Passwords need at least 8 characters.'
      : 'Chat with your team, on your own server.';
    displayRow.hidden = !signup;
    password.autocomplete = signup ? 'new-password' : 'current-password';
    submit.textContent = signup ? 'Sign up' : 'Log in';
    switcher.textContent = signup ? 'I already have an account' : 'Create an account';
    error.textContent = '';
  }

  /** @param {SubmitEvent} event */
  async function onSubmit(event) {
    event.preventDefault();
    error.textContent = '';
    submit.disabled = true;
    try {
      const name = username.value.trim().toLowerCase();
      const auth = mode === 'signup'
        ? await api.register(name, password.value, displayName.value.trim(), deviceName())
        : await api.login(name, password.value, deviceName());
      session.save(auth);
      onSignedIn(auth.user);
    } catch (failure) {
      error.textContent = failure instanceof api.ApiError ? explain(failure) : 'Something went wrong. Please try again.';
      submit.disabled = false;
    }
  }

  setMode('login');
  root.replaceChildren(h('main', { class: 'auth' }, h('div', { class: 'auth-card' }, h('div', { class: 'logo', 'aria-hidden': 'true', text: 'n' }), form)));
  username.focus();
}

/** @param {api.ApiError} failure */
function explain(failure) {
  switch (failure.code) {
    case 'unauthorized': return 'Wrong username or password.';
    case 'conflict': return 'That username is taken.';
    case 'rate_limited': return 'Too many attempts. Wait a minute and try again.';
    case 'network': return 'The server cannot be reached.';
    default: return failure.message;
  }
}
