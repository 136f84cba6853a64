// @ts-check
// The agent's own call: Mute, and Hang up (asked first: it ends the caller's call too). The
// browser phone's call is the Voice SDK's (mute(), disconnect()); the sandbox's is simulated:
// its hang-up is the sandbox's, its mute is this page's alone.

import { api, apiError } from './api.js';
import { $, announce, clearError, showError } from './dom.js';
import { callerTitle, sentence } from './format.js';
import { render, renderCall } from './render.js';
import { refreshMe } from './session.js';
import { canHangUp, currentCall, isMuted, state } from './state.js';

/**
 * The Voice SDK call's microphone (Twilio.Call.mute), which ui-types/ does not declare yet.
 * @typedef {import('./voice.js').SdkCall & { mute(shouldMute: boolean): void }} MutableCall
 */

/** The call the hang-up question is about (its callSid): the answer applies to it alone. */
let asked = '';

/** Mutes the agent's microphone on the current call, or unmutes it. */
export function toggleMute() {
  const call = currentCall();
  if (!call || !canHangUp(call)) return;
  const on = !isMuted(call);
  if (state.voiceCall) /** @type {MutableCall} */ (state.voiceCall.call).mute(on);
  state.muted = on ? call.callSid : null;
  renderCall();
  const simulated = state.voiceCall ? '' : ' (simulated)';
  announce(on ? `Muted${simulated}: the caller cannot hear you.` : `Unmuted${simulated}: the caller hears you again.`);
}

/** Hang up asks first, naming the caller and offering to park instead. */
export function askHangUp() {
  const call = currentCall();
  if (!call || !canHangUp(call)) return;
  asked = call.callSid;
  $('hangup-title').textContent = `Hang up on ${callerTitle(call)}?`;
  const dialog = /** @type {HTMLDialogElement} */ ($('hangup-dialog'));
  if (!dialog.open) dialog.showModal();
  $('hangup-cancel').focus();
}

/** The question goes when its call does (the caller hung up, the call was parked…). */
export function dropStaleHangUpQuestion() {
  const dialog = /** @type {HTMLDialogElement} */ ($('hangup-dialog'));
  const call = currentCall();
  if (dialog.open && (!call || call.callSid !== asked)) dialog.close();
}

/** Wires the hang-up question's buttons, once. */
export function wireHangUpDialog() {
  const dialog = /** @type {HTMLDialogElement} */ ($('hangup-dialog'));
  const backToCard = () => {
    const button = /** @type {HTMLElement | null} */ (document.querySelector('[data-action="hangup-mine"]'));
    if (button) button.focus();
  };
  $('hangup-cancel').addEventListener('click', () => {
    dialog.close();
    backToCard();
  });
  dialog.addEventListener('cancel', () => setTimeout(backToCard, 0));
  $('hangup-confirm').addEventListener('click', () => {
    dialog.close();
    hangUpMine(asked);
  });
}

/**
 * Ends the agent's call, if it is still the one they were asked about.
 * @param {string} callSid
 */
async function hangUpMine(callSid) {
  const call = currentCall();
  if (!call || call.callSid !== callSid || !canHangUp(call)) {
    announce('That call has ended already.');
    return;
  }
  clearError();
  const who = callerTitle(call);
  if (state.voiceCall) {
    // The SDK's disconnect event takes the call off the page (phone.js).
    state.voiceCall.call.disconnect();
    ended(who);
    return;
  }
  try {
    await api('POST', `/api/sandbox/calls/${encodeURIComponent(call.pstnCallSid || '')}/hangup`);
    state.endedCalls.add(call.callSid);
    ended(who);
    await refreshMe();
  } catch (caught) {
    showError(`Could not hang up. ${sentence(apiError(caught).message)}`);
  }
}

/**
 * The call is over: the panel says so, and the focus goes to its heading.
 * @param {string} who
 */
function ended(who) {
  state.muted = null;
  render();
  announce(`You hung up on ${who}.`);
  $('call-heading').focus();
}
