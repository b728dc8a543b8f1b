// One-to-one calls (docs/API.md, "Calls"): the RTCPeerConnection and its
// signaling over the WebSocket. Every connection is a party (`party_id`
// from `ready`); an invite rings on every device of the callee, the first
// to answer wins and the others hear `call.select_answer` ("answered on
// another device"). ICE servers are the TURN servers the server hands out
// (`GET /calls/turn`), none if it has none: no STUN server on the internet
// by default. One call at a time; the screen is views/call.js, which
// follows `emit('call')`.
//
// "Always relay calls" (a setting of this browser, whoever signs in: it
// hides this device's addresses) makes the connection with
// `iceTransportPolicy: 'relay'`: only the TURN server's relay candidates
// are used and sent, so the other side learns the relay's address, never
// the device's. Without a TURN server such a call cannot connect, so it
// ends at once with a notice saying so.

import * as api from './api.js';
import * as ws from './ws.js';
import { emit } from './state/store.js';
import { uuid } from './format.js';

/** @typedef {import('./types.js').ServerEvent} ServerEvent */
/**
 * @typedef {'incoming' | 'outgoing' | 'connecting' | 'connected' | 'ended'} CallPhase
 * @typedef {{
 *   callId: string, chatId: string, peerId: string, video: boolean, phase: CallPhase,
 *   outgoing: boolean, offer?: import('./types.js').SessionDescription,
 *   pc?: RTCPeerConnection, local?: MediaStream, remote?: MediaStream,
 *   muted: boolean, cameraOff: boolean, startedAt?: number, notice?: string,
 *   early: RTCIceCandidateInit[], outbound: RTCIceCandidateInit[], flushTimer?: ReturnType<typeof setTimeout>,
 *   restartTimer?: ReturnType<typeof setTimeout>,
 * }} Call
 */

/** How long an invite rings. */
const LIFETIME_MS = 60_000;
/** Candidates found within this long go out in one frame. */
const BATCH_MS = 30;
/** How long a notice ("Declined", "No answer") stays on screen. */
const NOTICE_MS = 2_500;
/** How long an ICE restart may take before the call is given up. */
const RESTART_MS = 10_000;
/** Where "Always relay calls" is kept (localStorage, this browser). */
const RELAY_KEY = 'natter.always-relay';
/** The notice of a relayed call without a relay. */
const NO_RELAY = 'Always relay calls is on, but this server has no TURN relay';

/** This connection's party id. @type {string | null} */
let partyId = null;
/** The call on screen. @type {Call | null} */
let current = null;

/** The call on screen, if any. */
export function active() {
  return current;
}

function changed() {
  emit('call', current);
}

/** Whether calls go only through the TURN relay (this browser's choice). */
export function alwaysRelay() {
  try {
    return localStorage.getItem(RELAY_KEY) === 'on';
  } catch {
    return false;
  }
}

/** @param {boolean} on */
export function setAlwaysRelay(on) {
  try {
    if (on) localStorage.setItem(RELAY_KEY, 'on');
    else localStorage.removeItem(RELAY_KEY);
  } catch {
    // Storage refused (private window): the choice is not kept.
  }
}

/** The server's TURN servers with fresh credentials; none when it has
 * none (or cannot be asked). @returns {Promise<RTCIceServer[]>} */
export async function iceServers() {
  try {
    /** @type {{ uris: string[], username?: string, password?: string }} */
    const turn = await api.call('GET', '/calls/turn');
    if (!turn.uris.length) return [];
    return [{ urls: turn.uris, username: turn.username, credential: turn.password }];
  } catch {
    return [];
  }
}

/** A call that cannot connect: the notice says why. */
class CallFailure extends Error {}

/** @param {Call} call */
async function connect(call) {
  const servers = await iceServers();
  const relay = alwaysRelay();
  if (relay && !servers.length) throw new CallFailure(NO_RELAY);
  const pc = new RTCPeerConnection({ iceServers: servers, iceTransportPolicy: relay ? 'relay' : 'all' });
  call.pc = pc;
  call.remote = new MediaStream();
  pc.addEventListener('icecandidate', (event) => {
    if (event.candidate) queueCandidate(call, event.candidate.toJSON());
  });
  pc.addEventListener('track', (event) => {
    call.remote?.addTrack(event.track);
    changed();
  });
  const failed = () => hangUp('ice_failed', relay ? 'Could not connect through the TURN relay' : 'Could not connect the call');
  pc.addEventListener('connectionstatechange', () => {
    if (current !== call) return;
    if (pc.connectionState === 'connected') {
      clearTimeout(call.restartTimer);
      call.restartTimer = undefined;
      if (call.phase === 'connecting') call.phase = 'connected';
      call.notice = undefined;
      changed();
    } else if (pc.connectionState === 'failed') {
      // A call that was up (the network changed under it) gets one ICE
      // restart before it is given up; one that never connected ends.
      if (call.phase !== 'connected' || call.restartTimer) return failed();
      call.notice = 'Reconnecting…';
      changed();
      call.restartTimer = setTimeout(() => {
        if (current === call && pc.connectionState !== 'connected') failed();
      }, RESTART_MS);
      // The caller restarts (so both sides never offer at once); the
      // callee waits for the new offer, or the timer.
      if (call.outgoing) pc.restartIce();
    }
  });
  // After the first offer and answer, a needed negotiation (an ICE
  // restart) is a new offer through `call.negotiate`; the answer comes
  // back the same way (see `handle`).
  pc.addEventListener('negotiationneeded', () => {
    if (current !== call || !call.outgoing || !call.startedAt) return;
    void (async () => {
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      ws.send({ type: 'call.negotiate', call_id: call.callId, chat_id: call.chatId, description: { type: 'offer', sdp: offer.sdp ?? '' } });
    })().catch(failed);
  });
  call.local = await navigator.mediaDevices.getUserMedia({ audio: true, video: call.video });
  for (const track of call.local.getTracks()) pc.addTrack(track, call.local);
  return pc;
}

/** @param {Call} call @param {RTCIceCandidateInit} candidate */
function queueCandidate(call, candidate) {
  call.outbound.push(candidate);
  if (call.flushTimer || (call.phase === 'outgoing' && !call.offer)) return;
  call.flushTimer = setTimeout(() => flushCandidates(call), BATCH_MS);
}

/** @param {Call} call */
function flushCandidates(call) {
  call.flushTimer = undefined;
  if (current !== call || !call.outbound.length) return;
  const candidates = call.outbound.splice(0, 64);
  ws.send({ type: 'call.candidates', call_id: call.callId, chat_id: call.chatId, candidates });
  if (call.outbound.length) call.flushTimer = setTimeout(() => flushCandidates(call), BATCH_MS);
}

/**
 * Calls the other member of a direct chat.
 * @param {string} chatId @param {string} peerId @param {boolean} video
 */
export async function start(chatId, peerId, video) {
  if (current) return;
  /** @type {Call} */
  const call = {
    callId: uuid(), chatId, peerId, video, phase: 'outgoing', outgoing: true,
    muted: false, cameraOff: false, early: [], outbound: [],
  };
  current = call;
  changed();
  try {
    const pc = await connect(call);
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    if (current !== call) return;
    call.offer = { type: 'offer', sdp: offer.sdp ?? '' };
    const sent = ws.send({
      type: 'call.invite', call_id: call.callId, chat_id: chatId, offer: call.offer,
      lifetime_ms: LIFETIME_MS, video,
    });
    if (!sent) return finish(call, 'Not connected: try again');
    // The server ends an unanswered invite; should its word be lost (a
    // socket gone meanwhile), stop ringing out a little after it would.
    setTimeout(() => {
      if (current === call && call.phase === 'outgoing') finish(call, 'No answer');
    }, LIFETIME_MS + 5_000);
    if (call.outbound.length) call.flushTimer = setTimeout(() => flushCandidates(call), BATCH_MS);
  } catch (error) {
    finish(call, error instanceof CallFailure ? error.message : 'Could not start the call');
  }
}

/** Accepts the ringing call, with or without camera. @param {boolean} video */
export async function accept(video) {
  const call = current;
  if (!call || call.phase !== 'incoming' || !call.offer) return;
  call.video = video;
  call.phase = 'connecting';
  changed();
  try {
    const pc = await connect(call);
    await pc.setRemoteDescription(call.offer);
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    if (current !== call) return;
    ws.send({ type: 'call.answer', call_id: call.callId, chat_id: call.chatId, answer: { type: 'answer', sdp: answer.sdp ?? '' } });
    call.startedAt = Date.now();
    for (const candidate of call.early.splice(0)) await pc.addIceCandidate(candidate);
    changed();
  } catch (error) {
    const failure = error instanceof CallFailure;
    ws.send({ type: 'call.hangup', call_id: call.callId, chat_id: call.chatId, reason: failure ? 'no_relay' : 'user_media_failed' });
    finish(call, failure ? error.message : 'Could not answer the call');
  }
}

/** Declines the ringing call. */
export function decline() {
  const call = current;
  if (!call || call.phase !== 'incoming') return;
  ws.send({ type: 'call.reject', call_id: call.callId, chat_id: call.chatId });
  finish(call);
}

/** Hangs up (or cancels an unanswered call).
 * @param {string} [reason] @param {string} [notice] shown for a moment */
export function hangUp(reason = 'user_hangup', notice) {
  const call = current;
  if (!call) return;
  if (call.phase === 'incoming') return decline();
  ws.send({ type: 'call.hangup', call_id: call.callId, chat_id: call.chatId, reason });
  finish(call, notice);
}

export function toggleMute() {
  if (!current?.local) return;
  current.muted = !current.muted;
  for (const track of current.local.getAudioTracks()) track.enabled = !current.muted;
  changed();
}

export function toggleCamera() {
  if (!current?.local) return;
  current.cameraOff = !current.cameraOff;
  for (const track of current.local.getVideoTracks()) track.enabled = !current.cameraOff;
  changed();
}

/** Ends the call here: media off, and a notice for a moment if given.
 * @param {Call} call @param {string} [notice] */
function finish(call, notice) {
  if (current !== call) return;
  clearTimeout(call.flushTimer);
  clearTimeout(call.restartTimer);
  call.pc?.close();
  for (const track of call.local?.getTracks() ?? []) track.stop();
  call.phase = 'ended';
  call.notice = notice;
  if (!notice) {
    current = null;
    changed();
    return;
  }
  changed();
  setTimeout(() => {
    if (current === call) {
      current = null;
      changed();
    }
  }, NOTICE_MS);
}

/** Follows the socket's frames (every frame passes by here).
 * @param {ServerEvent} event */
export function handle(event) {
  switch (event.type) {
    case 'ready':
      // A new socket is a new party: the server ended the calls of the old
      // one (a call still ringing here can be answered from the new one).
      if (partyId && event.party_id !== partyId && current && current.phase !== 'ended' && current.phase !== 'incoming') {
        finish(current, 'Call ended: connection lost');
      }
      partyId = event.party_id ?? null;
      break;
    case 'call.invite':
      if (current) break; // busy: it rings on, or on another device
      current = {
        callId: event.call_id, chatId: event.chat_id, peerId: event.user_id, video: event.video,
        phase: 'incoming', outgoing: false, offer: event.offer, muted: false, cameraOff: false,
        early: [], outbound: [],
      };
      changed();
      break;
    case 'call.answer': {
      const call = current;
      if (!call || call.callId !== event.call_id || !call.outgoing || !call.pc) break;
      call.phase = 'connecting';
      call.startedAt = Date.now();
      void call.pc.setRemoteDescription(event.answer).then(async () => {
        for (const candidate of call.early.splice(0)) await call.pc?.addIceCandidate(candidate);
      }).catch(() => hangUp('ice_failed'));
      changed();
      break;
    }
    case 'call.select_answer':
      if (current?.callId === event.call_id && event.selected_party_id !== partyId && current.phase === 'incoming') {
        finish(current, 'Answered on another device');
      }
      break;
    case 'call.candidates': {
      const call = current;
      if (!call || call.callId !== event.call_id || event.user_id !== call.peerId) break;
      if (call.pc?.remoteDescription) {
        for (const candidate of event.candidates) void call.pc.addIceCandidate(candidate).catch(() => {});
      } else {
        call.early.push(...event.candidates);
      }
      break;
    }
    case 'call.negotiate': {
      const call = current;
      if (!call?.pc || call.callId !== event.call_id) break;
      const pc = call.pc;
      void pc.setRemoteDescription(event.description).then(async () => {
        if (event.description.type !== 'offer') return;
        const answer = await pc.createAnswer();
        await pc.setLocalDescription(answer);
        ws.send({ type: 'call.negotiate', call_id: call.callId, chat_id: call.chatId, description: { type: 'answer', sdp: answer.sdp ?? '' } });
      }).catch(() => {});
      break;
    }
    case 'error':
      // The server refused a frame about this call: it ended meanwhile
      // (`not_found`), or another device answered first (`conflict`).
      if (current && event.call_id === current.callId) {
        finish(current, event.code === 'conflict' && !current.outgoing ? 'Answered on another device' : 'Call ended');
      }
      break;
    case 'call.reject':
      if (current?.callId === event.call_id) finish(current, current.outgoing ? 'Call declined' : undefined);
      break;
    case 'call.hangup':
      if (current?.callId === event.call_id) {
        const unanswered = current.phase === 'outgoing' || current.phase === 'incoming';
        finish(current, event.reason === 'invite_timeout' ? 'No answer' : unanswered && !current.outgoing ? 'Missed call' : 'Call ended');
      }
      break;
  }
}
