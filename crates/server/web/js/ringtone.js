// The call tones, made with the Web Audio API (oscillators, no audio
// files): the ring of an incoming call on the callee's devices and the
// ring-back the caller hears while waiting. One tone at a time; which one
// (if any) is the call screen's decision (views/call.js follows the
// call's phase). Browsers keep audio silent before a user gesture, so the
// AudioContext is made on first need and resumed on the first gesture;
// a tone that cannot play stays silent and never throws.

/** @typedef {'incoming' | 'outgoing'} Tone */

/**
 * Each tone is a cycle of beeps (offset and length in seconds, two
 * frequencies mixed) repeated every `period` seconds. The ring-back is
 * the familiar 440+480 Hz, 2 s on and 4 s off; the ring is a brighter,
 * quicker double burst so the two are never confused.
 * @type {Record<Tone, { period: number, beeps: { at: number, length: number, hz: [number, number] }[] }>}
 */
const PATTERNS = {
  outgoing: { period: 6, beeps: [{ at: 0, length: 2, hz: [440, 480] }] },
  incoming: {
    period: 3,
    beeps: [
      { at: 0, length: 0.4, hz: [660, 880] },
      { at: 0.6, length: 0.4, hz: [660, 880] },
    ],
  },
};

/** Loud enough to hear, well below clipping with two oscillators. */
const VOLUME = 0.12;
/** Fade in and out of each beep (s): no clicks. */
const RAMP = 0.02;

/** @type {AudioContext | null} */
let context = null;
/** The tone scheduled now, its output and its cycle timer.
 * @type {{ tone: Tone, output: GainNode, timer: ReturnType<typeof setInterval> } | null} */
let playing = null;

/** The AudioContext, made on first use; null where there is no Web Audio. */
function audio() {
  if (context) return context;
  try {
    context = new AudioContext();
  } catch {
    return null;
  }
  return context;
}

/** A tone waiting for permission to sound starts with the first gesture.
 * (Once the page has had one, browsers let later contexts start.) */
function onGesture() {
  if (playing && context && context.state !== 'running') void context.resume().catch(() => {});
}

for (const name of ['pointerdown', 'keydown', 'touchend']) window.addEventListener(name, onGesture, true);

/** Schedules one cycle of `tone` from `start` (context time).
 * @param {AudioContext} ctx @param {GainNode} output @param {Tone} tone @param {number} start */
function cycle(ctx, output, tone, start) {
  for (const beep of PATTERNS[tone].beeps) {
    const from = start + beep.at;
    const to = from + beep.length;
    const envelope = ctx.createGain();
    envelope.gain.setValueAtTime(0, from);
    envelope.gain.linearRampToValueAtTime(VOLUME, from + RAMP);
    envelope.gain.setValueAtTime(VOLUME, to - RAMP);
    envelope.gain.linearRampToValueAtTime(0, to);
    envelope.connect(output);
    for (const hz of beep.hz) {
      const oscillator = ctx.createOscillator();
      oscillator.frequency.value = hz;
      oscillator.connect(envelope);
      oscillator.start(from);
      oscillator.stop(to);
    }
  }
}

/**
 * Plays `tone` (or nothing for null) until told otherwise; the same tone
 * again goes on as it was. Returns the tone now scheduled: null when
 * there is none, or when this browser cannot make sound at all.
 * @param {Tone | null} tone
 * @returns {Tone | null}
 */
export function play(tone) {
  if (playing?.tone === tone) return tone;
  silence();
  if (!tone) return null;
  try {
    const ctx = audio();
    if (!ctx) return null;
    // Suspended until a gesture: resume() is refused quietly then, and
    // the cycles are scheduled anyway so the tone starts once it may.
    void ctx.resume().catch(() => {});
    const output = ctx.createGain();
    output.connect(ctx.destination);
    const period = PATTERNS[tone].period;
    // A cycle is scheduled ahead of time from a timer; the timer only
    // keeps one cycle queued, so stopping never waits long.
    let next = ctx.currentTime + 0.05;
    const queue = () => {
      // After a stall (a suspended context, a throttled timer) start
      // afresh rather than play the missed cycles at once.
      if (next < ctx.currentTime) next = ctx.currentTime + 0.05;
      while (next < ctx.currentTime + period) {
        cycle(ctx, output, tone, next);
        next += period;
      }
    };
    queue();
    playing = { tone, output, timer: setInterval(queue, 500) };
    return tone;
  } catch {
    silence();
    return null;
  }
}

/** Stops the tone at once (its queued beeps with it). */
export function silence() {
  if (!playing) return;
  clearInterval(playing.timer);
  try {
    // Cutting the output silences every queued oscillator; they end by
    // their own stop() times and are collected.
    playing.output.disconnect();
  } catch {
    // Already disconnected.
  }
  playing = null;
  // A silent context still holds the audio output: let it go.
  void context?.suspend().catch(() => {});
}

/** The tone scheduled now, if any. */
export function current() {
  return playing?.tone ?? null;
}
