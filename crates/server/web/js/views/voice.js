// Voice messages on screen: the player in a bubble (play/pause, a
// waveform or a plain bar that shows and sets the position, the position
// and the length from `metadata.duration_ms`), the pending bubble while
// one uploads, and the composer's recorder (a mic button; while recording
// a bar with a timer, Cancel and Send in place of the text field). The
// recording itself is js/recording.js.
//
// A player is kept per message and handed to each rebuild of its bubble
// (a tick turning blue rebuilds it), so playback goes on. One plays at a
// time. Its signed link may have expired when Play is pressed: a fresh
// one is fetched first (playback resumes where it was paused). A note
// that cannot be played says so on its bubble, with a download link.
// Leaving the chat or signing out while the browser asks for the
// microphone lets it go as soon as it is granted.

import * as recording from '../recording.js';
import { current as limits } from '../limits.js';
import { duration } from '../format.js';
import { freshFile, linkFresh } from '../messages.js';
import { h } from '../dom.js';
import { icon } from '../icons.js';

/** @typedef {import('../types.js').Message} Message */

/** Players kept for rebuilt bubbles, most recently shown last. */
const players = /** @type {Map<string, { node: HTMLElement, audio: HTMLAudioElement, url: string }>} */ (new Map());
/** Players kept at most (the rest are dropped, oldest shown first). */
const KEEP = 200;
/** Bars drawn when a note has no waveform. */
const PLAIN_BARS = 40;
/** A recording cut short by the microphone is kept from this length. */
const MIN_KEPT_MS = 1000;

/**
 * The player of a voice message (reused across rebuilds).
 * @param {Message} message
 * @returns {HTMLElement}
 */
export function voiceNote(message) {
  const url = message.file?.url ?? '';
  const kept = players.get(message.message_id);
  players.delete(message.message_id);
  const player = kept ?? buildPlayer(message);
  // New links replace the old ones unless playback has begun with them.
  if (kept && kept.url !== url && kept.audio.paused && kept.audio.currentTime === 0) {
    kept.audio.src = url;
    kept.url = url;
  }
  players.set(message.message_id, player);
  for (const [id, old] of players) {
    if (players.size <= KEEP) break;
    if (old.audio.paused) players.delete(id);
  }
  return player.node;
}

/** @param {Message} message */
function buildPlayer(message) {
  const totalMs = Math.max(0, message.metadata.duration_ms ?? 0);
  const player = { node: h('div'), audio: h('audio', { preload: 'none' }), url: message.file?.url ?? '' };
  const { audio } = player;
  audio.src = player.url;
  const levels = message.metadata.waveform?.length ? message.metadata.waveform : Array(PLAIN_BARS).fill(80);
  const bars = levels.map((level) => {
    const bar = h('span', { class: 'voice-bar' });
    bar.style.height = `${Math.max(8, Math.round((Math.min(255, Math.max(0, level)) / 255) * 100))}%`;
    return bar;
  });
  const seek = h('input', {
    type: 'range', class: 'voice-seek', min: 0, max: Math.max(1, totalMs), step: 100, value: 0,
    'aria-label': 'Position', 'aria-valuetext': `${duration(0)} of ${duration(totalMs)}`,
  });
  const button = h('button', { type: 'button', class: 'icon-button voice-play', 'aria-label': 'Play voice message' }, icon('play'));
  const position = h('span', { class: 'voice-position', text: duration(0) });
  const failure = h('p', { class: 'voice-error', role: 'alert', hidden: true });
  player.node = h('div', { class: 'voice-note', role: 'group', 'aria-label': `Voice message, ${duration(totalMs)}` },
    button,
    h('div', { class: 'voice-track' }, h('div', { class: 'voice-bars', 'aria-hidden': 'true' }, bars), seek),
    h('span', { class: 'voice-time' }, position, ' / ', h('span', { class: 'voice-duration', text: duration(totalMs) })),
    audio, failure);

  const show = () => {
    const ms = audio.currentTime * 1000;
    const fraction = totalMs ? Math.min(1, ms / totalMs) : 0;
    const played = Math.round(fraction * bars.length);
    bars.forEach((bar, index) => bar.classList.toggle('played', index < played));
    position.textContent = duration(ms, true);
    seek.value = String(Math.round(ms));
    seek.setAttribute('aria-valuetext', `${duration(ms, true)} of ${duration(totalMs)}`);
  };
  const showButton = () => {
    const playing = !audio.paused && !audio.ended;
    button.replaceChildren(icon(playing ? 'pause' : 'play'));
    button.setAttribute('aria-label', playing ? 'Pause voice message' : 'Play voice message');
  };
  audio.addEventListener('timeupdate', show);
  audio.addEventListener('error', () => showFailure(player));
  audio.addEventListener('play', () => {
    for (const other of players.values()) if (other.audio !== audio) other.audio.pause();
    showButton();
  });
  audio.addEventListener('pause', showButton);
  audio.addEventListener('ended', () => {
    audio.currentTime = 0;
    show();
    showButton();
  });
  button.addEventListener('click', () => void toggle(message, player));
  seek.addEventListener('input', () => {
    audio.currentTime = Number(seek.value) / 1000;
    show();
  });
  return player;
}

/**
 * Playback failed (an unplayable file, a lost link): say so on the bubble
 * and offer the file to download instead.
 * @param {{ node: HTMLElement, audio: HTMLAudioElement, url: string }} player
 */
function showFailure(player) {
  const failure = player.node.querySelector('.voice-error');
  if (!(failure instanceof HTMLElement)) return;
  failure.replaceChildren("Can't play this voice message. ",
    h('a', { href: player.url, download: '', text: 'Download it' }));
  failure.hidden = false;
}

/**
 * Play or pause; before the first play of an expired link, fetch new links.
 * @param {Message} message
 * @param {{ node: HTMLElement, audio: HTMLAudioElement, url: string }} player
 */
async function toggle(message, player) {
  const { audio } = player;
  if (!audio.paused) {
    audio.pause();
    return;
  }
  if (!linkFresh(player.url)) {
    const file = await freshFile(message).catch(() => null);
    if (file) {
      // A new source starts from 0:00: go back to where it was paused.
      const at = audio.currentTime;
      if (at > 0) {
        audio.addEventListener('loadedmetadata', () => {
          audio.currentTime = at;
        }, { once: true });
      }
      player.url = file.url;
      audio.src = file.url;
    }
  }
  try {
    await audio.play();
    const failure = player.node.querySelector('.voice-error');
    if (failure instanceof HTMLElement) failure.hidden = true;
  } catch (error) {
    // A pause pressed before playing began is not a failure.
    if (!(error instanceof DOMException && error.name === 'AbortError')) showFailure(player);
  }
}

/**
 * A voice note on its way: its length and the upload's progress.
 * @param {import('../state/store.js').Pending} pending
 */
export function voicePending(pending) {
  return h('div', { class: 'body' }, h('div', { class: 'voice-note' },
    h('span', { class: 'voice-play', 'aria-hidden': 'true' }, icon('mic')),
    h('span', { class: 'voice-time', text: `Voice message ${duration(pending.metadata?.duration_ms ?? 0)}` })));
}

/**
 * The composer's recorder: `button` (the mic) goes in the composer's row,
 * `bar` below it; while recording, `onActive(true)` lets the composer
 * hide its own row. A finished recording goes to `onRecorded`; problems
 * (no microphone, access refused) to `onError`, as words to show. Null
 * where the browser cannot record.
 * @param {{
 *   onActive: (recording: boolean) => void,
 *   onRecorded: (recorded: import('../recording.js').Recording) => void,
 *   onError: (text: string) => void,
 * }} hooks
 */
export function voiceRecorder(hooks) {
  if (!recording.supported()) return null;
  /** @type {import('../recording.js').Recorder | null} */
  let recorder = null;
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let ticker;
  let starting = false;
  let disposed = false;
  const timer = h('span', { class: 'voice-timer', role: 'timer', 'aria-label': 'Recording time', text: duration(0) });
  const cancel = h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Cancel recording', title: 'Cancel recording' }, icon('close'));
  const send = h('button', { type: 'button', class: 'primary voice-send', 'aria-label': 'Send voice message', title: 'Send voice message' }, icon('stop'), h('span', { text: 'Send' }));
  const bar = h('div', { class: 'voice-recorder', hidden: true },
    cancel, h('span', { class: 'voice-recording-dot', 'aria-hidden': 'true' }), h('span', { class: 'voice-recording-label', text: 'Recording' }), timer, send);
  const button = h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Record voice message', title: 'Record voice message' }, icon('mic'));

  button.addEventListener('click', () => void begin());
  cancel.addEventListener('click', () => finish(false));
  send.addEventListener('click', () => void finish(true));
  bar.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') void finish(false);
  });

  async function begin() {
    if (recorder || starting) return;
    starting = true;
    hooks.onError('');
    /** @type {import('../recording.js').Recorder} */
    let started;
    try {
      started = await recording.start(() => void interrupted());
    } catch (error) {
      if (!disposed) hooks.onError(recording.failureText(error));
      return;
    } finally {
      starting = false;
    }
    // The chat was left (or its person signed out) while the browser asked.
    if (disposed) {
      started.cancel();
      return;
    }
    recorder = started;
    timer.textContent = duration(0);
    bar.hidden = false;
    hooks.onActive(true);
    send.focus();
    ticker = setInterval(() => {
      if (!recorder) return;
      const elapsed = recorder.elapsedMs();
      timer.textContent = duration(elapsed, true);
      // At the server's cap the note goes as it is.
      if (elapsed >= limits().max_voice_duration_ms) void finish(true);
    }, 200);
  }

  /** The microphone went away mid-recording: what there is goes if it
   * is long enough to be worth hearing. */
  async function interrupted() {
    const active = recorder;
    if (!active) return;
    if (active.elapsedMs() >= MIN_KEPT_MS) await finish(true);
    else {
      await finish(false);
      hooks.onError('The microphone stopped, so nothing was recorded.');
    }
  }

  /** @param {boolean} keep */
  async function finish(keep) {
    const active = recorder;
    if (!active) return;
    recorder = null;
    clearInterval(ticker);
    bar.hidden = true;
    hooks.onActive(false);
    if (!keep) {
      active.cancel();
      return;
    }
    const recorded = await active.stop();
    if (recorded) {
      // Stopped a tick after the cap, it still fits it.
      recorded.durationMs = Math.min(recorded.durationMs, limits().max_voice_duration_ms);
      hooks.onRecorded(recorded);
    }
    else hooks.onError('Nothing was recorded.');
  }

  return {
    button,
    bar,
    /** Leaving the chat drops a recording in progress. */
    dispose: () => {
      disposed = true;
      void finish(false);
    },
  };
}
