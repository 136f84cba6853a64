// @ts-check
// The page's state, shared by its modules. No DOM.

import { serverNow } from './api.js';
import { ParkingLot } from './lot.js';

/** @typedef {import('./api.js').Agent} Agent */
/** @typedef {import('./api.js').CurrentCall} CurrentCall */
/** @typedef {import('./api.js').Me} Me */
/** @typedef {import('./voice.js').Phone} Phone */
/** @typedef {import('./voice.js').SdkCall} SdkCall */
/** @typedef {'connecting' | 'live' | 'reconnecting'} Conn */

/**
 * The Voice SDK call in progress: what the page shows and parks of it, the SDK's call, and
 * whether it has been parked (the SDK call lives on while the caller moves to the lot).
 * @typedef {CurrentCall & { retrievedFrom: string | null, reason: string | null, call: SdkCall, parked: boolean }} VoiceCall
 */

export const state = {
  /** @type {Me | null} */
  me: null,
  /** @type {Map<string, Agent>} */
  agents: new Map(),
  lot: new ParkingLot(),
  /** @type {{ slot: number, call: CurrentCall } | null} the current call while its park request is in flight: its card is hidden meanwhile */
  parking: null,
  choosing: false,
  /** The digits typed so far while choosing a slot by number. */
  digits: '',
  dragging: false,
  /** @type {number | null} */
  dragOver: null,
  /** @type {Conn} */
  conn: 'connecting',
  /** @type {Phone | null} */
  voice: null,
  /** @type {{ kind: string, text: string } | null} */
  voiceStatus: null,
  /** @type {SdkCall | null} the Voice SDK call ringing in */
  incoming: null,
  /** @type {VoiceCall | null} */
  voiceCall: null,
  /**
   * Agent legs (call SIDs) this page knows have ended (the caller hung up, or the service said
   * the caller is gone) although /api/me may still name them as the current call.
   * @type {Set<string>}
   */
  endedCalls: new Set(),
  /** @type {{ callSid: string, at: number } | null} when this page first saw the current call (ms, server clock) */
  callClock: null,
  /** @type {string | null} the call (its callSid) the agent muted */
  muted: null,
  /** @type {{ slot: number, id: number } | null} the taken slot the agent just tried to park in */
  refusal: null,
  /** @type {import('./feed.js').Origin | null} where the agent's latest call from the lot came from */
  origin: null,
};

/**
 * The call this agent is on: the Voice SDK's when the browser is the phone, else the server's.
 * @returns {CurrentCall | null}
 */
export function currentCall() {
  if (!state.me) return null;
  if (state.voiceCall) return state.voiceCall.parked ? null : state.voiceCall;
  if (state.me.voice && state.voice) return null;
  const call = state.me.currentCall;
  return call && !state.endedCalls.has(call.callSid) ? call : null;
}

/**
 * An agent as the page names them: "you", their display name, else their identity.
 * @param {string | null | undefined} identity
 */
export function agentName(identity) {
  if (!identity) return 'someone';
  if (state.me && identity === state.me.identity) return 'you';
  return teamName(identity);
}

/**
 * An agent as a table names them: their display name, else their identity (an agent no longer
 * active, or the team not yet loaded).
 * @param {string} identity
 */
export function teamName(identity) {
  const agent = state.agents.get(identity);
  return (agent && agent.displayName) || identity;
}

/**
 * When the call connected, as this page knows it: the moment it first showed the call (the
 * service does not say when the call was bridged, so a reloaded page counts from the reload).
 * @param {CurrentCall} call
 * @returns {number} ms since the epoch, by the server's clock
 */
export function callSince(call) {
  if (!state.callClock || state.callClock.callSid !== call.callSid) {
    state.callClock = { callSid: call.callSid, at: serverNow() };
  }
  return state.callClock.at;
}

/**
 * Whether the page can end (and mute) this call: the browser phone's own call, or the sandbox's
 * simulated one. A call on another phone is ended on that phone.
 * @param {CurrentCall} call
 */
export function canHangUp(call) {
  if (state.voiceCall) return !state.voiceCall.parked && state.voiceCall.callSid === call.callSid;
  return Boolean(state.me && state.me.sandbox && call.pstnCallSid);
}

/** @param {CurrentCall} call */
export const isMuted = (call) => state.muted === call.callSid;
