// @ts-check
// The browser phone (voice.js, the Twilio Voice SDK), when the service issues Voice tokens:
// its status, and the calls that ring in, are accepted and end.

import { api } from './api.js';
import { announce, focusCallCard } from './dom.js';
import { callerTitle } from './format.js';
import { render, renderCall } from './render.js';
import { refreshMe } from './session.js';
import { state } from './state.js';
import { describeCall, startVoice } from './voice.js';

/** @typedef {import('./voice.js').SdkCall} SdkCall */

/** @type {Record<'ready' | 'connecting' | 'offline', string>} */
const STATUS_TEXT = {
  ready: 'Phone ready: calls ring in this browser.',
  connecting: 'Connecting the phone…',
  offline: 'Phone offline: calls will not ring here.',
};

/**
 * An error in words: its message, else itself.
 * @param {unknown} error
 */
const reason = (error) => (error && /** @type {{ message?: unknown }} */ (error).message) || error;

export async function startPhone() {
  state.voiceStatus = { kind: 'connecting', text: STATUS_TEXT.connecting };
  renderCall();
  try {
    state.voice = await startVoice({
      fetchToken: () => api('GET', '/api/token'),
      onStatus: (kind) => {
        state.voiceStatus = { kind, text: STATUS_TEXT[kind] };
        renderCall();
      },
      onError: (error) => {
        state.voiceStatus = { kind: 'error', text: `Phone problem: ${reason(error)}` };
        renderCall();
      },
      onIncoming: ringing,
    });
  } catch (error) {
    state.voiceStatus = { kind: 'error', text: `The browser phone is unavailable: ${reason(error)}` };
    renderCall();
  }
}

/**
 * A call rings in: Accept or Reject, until it is answered, cancelled or ends.
 * @param {SdkCall} call
 */
function ringing(call) {
  state.incoming = call;
  const clear = () => {
    if (state.incoming === call) state.incoming = null;
    renderCall();
  };
  call.on('cancel', clear);
  call.on('reject', clear);
  call.on('disconnect', clear);
  call.on('accept', () => {
    state.incoming = null;
    state.voiceCall = { ...describeCall(call), call, parked: false };
    renderCall();
    render();
    refreshMe();
    focusCallCard();
  });
  call.on('disconnect', () => {
    if (state.voiceCall && state.voiceCall.call === call) {
      state.voiceCall = null;
      state.muted = null;
    }
    render();
    refreshMe();
  });
  const info = describeCall(call);
  announce(`Incoming call from ${callerTitle(info)}. Accept or reject.`);
  renderCall();
  const accept = /** @type {HTMLElement | null} */ (document.querySelector('[data-action="accept"]'));
  if (accept) accept.focus();
}
