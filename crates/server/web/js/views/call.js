// The call screen: an incoming call on every device of the callee (accept
// with video or voice, decline), "Calling…" for the caller, then the call
// itself (the other person's video, your own small, a timer, mute, camera
// off, hang up) and a short notice when it ends ("Answered on another
// device", "Call declined", "No answer"). Also the call buttons of a
// direct chat's header and the "Always relay calls" switch of Settings.
// The logic is calls.js.
//
// The screen also decides the tone (ringtone.js): the ring while an
// incoming call shows, the ring-back while "Calling…", nothing in any
// other phase or when the screen closes, so every way a ringing call
// ends (answer, decline, answered elsewhere, hangup, timeout) silences
// it. `data-ringing="incoming|outgoing"` on the screen says which tone is
// scheduled.

import * as calls from '../calls.js';
import * as ringtone from '../ringtone.js';
import * as users from '../users.js';
import { callDuration } from '../format.js';
import { h } from '../dom.js';
import { icon } from '../icons.js';
import { on } from '../state/store.js';

/** @typedef {import('../calls.js').Call} Call */

/**
 * The voice and video call buttons of a direct chat's header.
 * @param {import('../types.js').ChatSummary} summary
 * @returns {HTMLElement[]}
 */
export function callButtons(summary) {
  const peerId = summary.peer_id;
  if (summary.type !== 'direct' || !peerId || !('RTCPeerConnection' in window)) return [];
  const button = (/** @type {boolean} */ video) => {
    const label = video ? 'Video call' : 'Voice call';
    return h('button', {
      type: 'button', class: 'ghost call-start', 'aria-label': label, title: label,
      on: { click: () => void calls.start(summary.chat_id, peerId, video) },
    }, icon(video ? 'video' : 'phone'));
  };
  return [button(false), button(true)];
}

let mounted = false;

/** Mounts the call screen (once); it shows itself while a call is on. */
export function mountCallScreen() {
  if (mounted) return;
  mounted = true;
  const screen = h('div', { class: 'call-screen', role: 'dialog', 'aria-label': 'Call', hidden: true });
  document.body.append(screen);
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let ticker;
  /** @type {HTMLVideoElement | null} */
  let remoteVideo = null;
  /** @type {HTMLVideoElement | null} */
  let localVideo = null;

  const render = (/** @type {Call | null} */ call) => {
    clearInterval(ticker);
    const tone = ringtone.play(call?.phase === 'incoming' ? 'incoming' : call?.phase === 'outgoing' ? 'outgoing' : null);
    if (tone) screen.dataset.ringing = tone;
    else delete screen.dataset.ringing;
    if (!call) {
      screen.hidden = true;
      screen.replaceChildren();
      remoteVideo = localVideo = null;
      return;
    }
    screen.hidden = false;
    const name = users.name(call.peerId);
    const kind = call.video ? 'video call' : 'voice call';
    if (call.phase === 'ended') {
      screen.replaceChildren(h('p', { class: 'call-notice', role: 'status', text: call.notice ?? 'Call ended' }));
      remoteVideo = localVideo = null;
      return;
    }
    if (call.phase === 'incoming') {
      screen.replaceChildren(
        h('p', { class: 'call-title', text: `${name} is calling` }),
        h('p', { class: 'call-kind', text: `Incoming ${kind}` }),
        h('div', { class: 'call-actions' },
          call.video ? h('button', { type: 'button', class: 'call-accept', text: 'Accept video', on: { click: () => void calls.accept(true) } }) : null,
          h('button', { type: 'button', class: 'call-accept', text: call.video ? 'Accept voice' : 'Accept', on: { click: () => void calls.accept(false) } }),
          h('button', { type: 'button', class: 'call-end', text: 'Decline', on: { click: () => calls.decline() } })));
      return;
    }
    // Outgoing, connecting or connected: the media and the controls.
    if (!remoteVideo) {
      remoteVideo = h('video', { class: 'call-remote', autoplay: true, playsinline: true, 'aria-label': `${name}'s video` });
      localVideo = h('video', { class: 'call-local', autoplay: true, playsinline: true, 'aria-label': 'Your video' });
      localVideo.muted = true;
    }
    if (call.remote && remoteVideo.srcObject !== call.remote) remoteVideo.srcObject = call.remote;
    if (call.local && localVideo && localVideo.srcObject !== call.local) localVideo.srcObject = call.local;
    remoteVideo.hidden = !call.video;
    if (localVideo) localVideo.hidden = !call.video || call.cameraOff;
    const status = h('p', { class: 'call-status', 'aria-live': 'polite' });
    const tick = () => {
      status.textContent = call.phase === 'outgoing' ? 'Calling…'
        : call.phase === 'connecting' ? 'Connecting…'
          : call.notice ?? callDuration(Date.now() - (call.startedAt ?? Date.now()));
    };
    tick();
    if (call.phase === 'connected') ticker = setInterval(tick, 500);
    screen.replaceChildren(
      h('p', { class: 'call-title', text: name }),
      status,
      h('div', { class: 'call-media' }, remoteVideo, localVideo),
      h('div', { class: 'call-actions' },
        h('button', { type: 'button', 'aria-pressed': String(call.muted), text: call.muted ? 'Unmute' : 'Mute', on: { click: () => calls.toggleMute() } }),
        call.video ? h('button', { type: 'button', 'aria-pressed': String(call.cameraOff), text: call.cameraOff ? 'Camera on' : 'Camera off', on: { click: () => calls.toggleCamera() } }) : null,
        h('button', { type: 'button', class: 'call-end', text: 'Hang up', on: { click: () => calls.hangUp() } })));
  };
  on('call', render);
  on('users', () => render(calls.active()));
}

/** The "Always relay calls" switch, for Settings: disabled, with the
 * reason, when the server has no TURN relay to go through (unless it is
 * on: then it can still be turned off). */
export function relaySettingsSection() {
  let available = false;
  const box = h('input', {
    type: 'checkbox', id: 'settings-always-relay', checked: calls.alwaysRelay(), disabled: true,
    'aria-describedby': 'settings-always-relay-hint',
    on: {
      change: () => {
        calls.setAlwaysRelay(box.checked);
        box.disabled = !available && !box.checked;
      },
    },
  });
  const hint = h('p', {
    id: 'settings-always-relay-hint', class: 'muted small',
    text: 'On this device. Calls go through the server\'s TURN relay, so the other person never learns your IP address.',
  });
  const reason = h('p', { class: 'muted small', role: 'status' });
  void calls.iceServers().then((servers) => {
    available = servers.length > 0;
    box.disabled = !available && !box.checked;
    if (!available) reason.textContent = 'Not available: this server has no TURN relay.';
  });
  return h('section', { class: 'settings-section', 'aria-labelledby': 'settings-calls-title' },
    h('h3', { class: 'section-title', id: 'settings-calls-title', text: 'Calls' }),
    h('div', { class: 'check-row' }, box, h('label', { for: 'settings-always-relay', text: 'Always relay calls' })),
    hint, reason);
}
