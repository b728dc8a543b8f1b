// Voice recording with MediaRecorder, no DOM: the microphone's audio as
// WebM/Opus where the browser writes it (Chromium, Firefox), else the
// first type it offers of Ogg/Opus and MP4/AAC (Safari). The length is
// timed here, because a MediaRecorder WebM carries no duration, and the
// waveform (~50 peaks, 0-255) is read back from the recording with
// decodeAudioData on an 8 kHz OfflineAudioContext (no output device, no
// autoplay rules, little memory); where decoding fails it is left out.
// A recording that ends by itself (microphone gone) is reported.

/** Recording types, best first. */
const TYPES = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/mp4'];
/** Bars of a waveform. */
export const WAVEFORM_BARS = 50;
/** MediaRecorder hands over data this often, so a long note is not one
 * huge buffer at the end. */
const TIMESLICE_MS = 1000;
/** Samples a second the waveform is read at: plenty for 50 bars. */
const DECODE_RATE = 8000;

/**
 * @typedef {{ file: File, durationMs: number, waveform?: number[] }} Recording
 * @typedef {{
 *   elapsedMs: () => number,
 *   stop: () => Promise<Recording | null>,
 *   cancel: () => void,
 * }} Recorder
 */

/** Whether this browser can record at all. */
export function supported() {
  return typeof MediaRecorder === 'function' && typeof navigator.mediaDevices?.getUserMedia === 'function';
}

/**
 * Starts recording from the microphone (the browser may ask first).
 * Rejects with the browser's DOMException when access is refused or
 * there is no microphone (see `failureText`); the microphone is let go
 * on every failure. `onInterrupted` is called once if the recording ends
 * by itself (the microphone unplugged, access revoked, a recorder error)
 * rather than by `stop` or `cancel`; `stop` then still returns what was
 * recorded.
 * @param {() => void} [onInterrupted]
 * @returns {Promise<Recorder>}
 */
export async function start(onInterrupted) {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const type = TYPES.find((candidate) => MediaRecorder.isTypeSupported(candidate));
  /** @type {Blob[]} */
  const chunks = [];
  let startedAt = 0;
  let endedAt = 0;
  let ending = false;
  /** @type {MediaRecorder} */
  let recorder;
  /** @type {Promise<unknown>} */
  let stopped;
  const interrupted = () => {
    if (ending) return;
    ending = true;
    if (!endedAt) endedAt = performance.now();
    onInterrupted?.();
  };
  try {
    recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
    recorder.addEventListener('dataavailable', (event) => {
      if (event.data.size) chunks.push(event.data);
    });
    stopped = new Promise((resolve) => {
      recorder.addEventListener('stop', resolve, { once: true });
      recorder.addEventListener('error', resolve, { once: true });
    });
    recorder.addEventListener('stop', interrupted);
    recorder.addEventListener('error', interrupted);
    for (const track of stream.getAudioTracks()) track.addEventListener('ended', interrupted);
    startedAt = performance.now();
    recorder.start(TIMESLICE_MS);
  } catch (error) {
    release(stream);
    throw error;
  }
  const end = () => {
    ending = true;
    if (!endedAt) endedAt = performance.now();
    if (recorder.state !== 'inactive') recorder.stop();
    release(stream);
  };
  return {
    elapsedMs: () => (endedAt || performance.now()) - startedAt,
    cancel: () => {
      end();
      chunks.length = 0;
    },
    stop: async () => {
      end();
      // Settled already if the recorder ended by itself.
      await stopped;
      const mime = (recorder.mimeType || type || 'audio/webm').split(';')[0];
      const blob = new Blob(chunks, { type: mime });
      if (!blob.size) return null;
      const file = new File([blob], `voice-message.${extension(mime)}`, { type: mime });
      return { file, durationMs: Math.max(1, Math.round(endedAt - startedAt)), waveform: await peaks(blob) };
    },
  };
}

/** What to tell a person whose recording could not start.
 * @param {unknown} error */
export function failureText(error) {
  const name = error instanceof DOMException ? error.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError') return 'Microphone access is blocked: allow it in the browser to record.';
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'No microphone was found.';
  if (name === 'NotReadableError') return 'The microphone is in use by another program.';
  return 'Recording could not start.';
}

/** @param {MediaStream} stream */
function release(stream) {
  for (const track of stream.getTracks()) track.stop();
}

/** @param {string} mime */
function extension(mime) {
  if (mime === 'audio/mp4') return 'm4a';
  if (mime === 'audio/ogg') return 'ogg';
  return 'webm';
}

/**
 * The loudest sample of each of WAVEFORM_BARS slices of the first
 * channel, scaled so the loudest bar is 255; undefined if the browser
 * cannot decode its own recording.
 * @param {Blob} blob
 * @returns {Promise<number[] | undefined>}
 */
async function peaks(blob) {
  try {
    // Decoded at a low rate (decodeAudioData resamples to the context's):
    // a long note at 48 kHz would take hundreds of MB on a phone.
    const context = new OfflineAudioContext(1, 1, DECODE_RATE);
    const audio = await context.decodeAudioData(await blob.arrayBuffer());
    const samples = audio.getChannelData(0);
    if (samples.length < WAVEFORM_BARS) return undefined;
    const slice = samples.length / WAVEFORM_BARS;
    const bars = Array.from({ length: WAVEFORM_BARS }, (_, bar) => {
      let peak = 0;
      for (let i = Math.floor(bar * slice); i < Math.floor((bar + 1) * slice); i += 1) peak = Math.max(peak, Math.abs(samples[i]));
      return peak;
    });
    const loudest = Math.max(...bars);
    return bars.map((peak) => (loudest > 0 ? Math.round((peak / loudest) * 255) : 0));
  } catch {
    return undefined;
  }
}
