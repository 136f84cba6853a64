// @ts-check
// The page's state, shared by its modules. No DOM.

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
  const agent = state.agents.get(identity);
  return (agent && agent.displayName) || identity;
}
