// @ts-check
// The call panel: a call ringing in, the call being parked, or the agent's own call (its
// card to drag onto a slot, its running time, Park, Mute and Hang up), or none.

import { serverNow } from './api.js';
import { $, h } from './dom.js';
import { callerSubtitle, callerTitle, duration } from './format.js';
import { dropStaleHangUpQuestion } from './call.js';
import { endChoosing } from './render.js';
import { callSince, canHangUp, currentCall, isMuted, state } from './state.js';
import { describeCall } from './voice.js';

/** @typedef {import('./api.js').CurrentCall} CurrentCall */
/** @typedef {ReturnType<typeof describeCall>} CallInfo */

export function renderCall() {
  const area = $('call-area');
  const call = currentCall();
  const simulate = /** @type {HTMLButtonElement | null} */ (document.getElementById('simulate-call'));
  if (simulate) simulate.disabled = Boolean(call) || Boolean(state.parking) || simulate.dataset.busy === 'true';
  if (!call && state.choosing) endChoosing();
  dropStaleHangUpQuestion();
  // Rebuilt only when what it shows changed: replacing the card in the middle of a drag would
  // lose the drag's end.
  const signature = JSON.stringify([
    state.incoming && describeCall(state.incoming),
    state.parking && [state.parking.slot, state.parking.call.callSid],
    call && { ...call, call: undefined }, call && isMuted(call), call && fromLot(call),
    state.choosing, Boolean(state.voiceCall), state.voiceStatus, state.me && state.me.sandbox,
  ]);
  if (area.dataset.signature === signature) return;
  area.dataset.signature = signature;
  // The focus stays on the control it was on (the card, Mute…) when the panel is rebuilt.
  const active = /** @type {HTMLElement | null} */ (document.activeElement);
  const focusKey = active && area.contains(active) ? (active.id === 'call-card' ? '#call-card' : active.dataset.action && `[data-action="${active.dataset.action}"]`) : null;
  const children = [callContent(call)];
  if (state.me && state.me.voice) {
    const kind = (state.voiceStatus && state.voiceStatus.kind) || 'connecting';
    children.push(h('p', { class: `phone-status phone-status--${kind}`, role: 'status' },
      (state.voiceStatus && state.voiceStatus.text) || 'Connecting the phone…'));
  }
  area.replaceChildren(...children);
  const again = focusKey && /** @type {HTMLElement | null} */ (area.querySelector(focusKey));
  if (again) again.focus();
}

/**
 * The call panel: a call ringing in, the call being parked, the current call, or none.
 * @param {CurrentCall | null} call
 */
function callContent(call) {
  if (state.incoming) return ringingCard(describeCall(state.incoming));
  if (state.parking) {
    return h('div', { class: 'call-empty call-empty--parking' },
      h('p', { class: 'call-empty-title', text: `Parking in slot ${state.parking.slot}…` }),
      h('p', { class: 'muted small', text: callerTitle(state.parking.call) }));
  }
  if (call) return callCard(call);
  const hint = state.me && state.me.sandbox
    ? 'Press “Simulate incoming call” to get a caller.'
    : 'Calls you answer show here, ready to park.';
  return h('div', { class: 'call-empty' },
    h('p', { class: 'call-empty-title', text: 'No call right now' }),
    h('p', { class: 'muted small', text: hint }));
}

/** @param {CallInfo} info */
function ringingCard(info) {
  return h('div', { class: 'call-card call-card--ringing', id: 'call-card', tabindex: '-1' },
    h('div', { class: 'call-icon call-icon--ringing', 'aria-hidden': 'true' }),
    h('div', { class: 'call-body' },
      h('p', { class: 'call-label', text: ringingLabel(info) }),
      h('p', { class: 'call-caller', text: callerTitle(info) }),
      callerSubtitle(info) && h('p', { class: 'call-sub', text: callerSubtitle(info) })),
    h('div', { class: 'call-actions' },
      h('button', { type: 'button', class: 'btn btn-primary', 'data-action': 'accept', text: 'Accept' }),
      h('button', { type: 'button', class: 'btn btn-danger', 'data-action': 'reject', text: 'Reject' })));
}

/** @param {CallInfo} info */
function ringingLabel(info) {
  if (!info.retrievedFrom) return 'Incoming call';
  if (info.reason === 'ringback') return `Hold time is up in slot ${info.retrievedFrom}: ringing you back`;
  return `Retrieved from slot ${info.retrievedFrom}, ringing`;
}

/**
 * Where a call retrieved (or rung back) from the lot came from, and how long it waited there.
 * @param {CurrentCall} call
 * @returns {string | null}
 */
function fromLot(call) {
  const origin = state.origin;
  if (!origin || !call.pstnCallSid || origin.pstnCallSid !== call.pstnCallSid) return null;
  return `From slot ${origin.slot} · waited ${duration(origin.waitedMs)}`;
}

/**
 * How long the call has run, and whether the agent is muted (in words: the sandbox's mute is
 * the page's alone).
 * @param {CurrentCall} call
 */
function callStatus(call) {
  const since = callSince(call);
  const muted = isMuted(call);
  return h('p', { class: 'call-status' },
    h('span', { class: 'call-timer' },
      h('span', { class: 'call-timer-label', text: 'Call time ' }),
      h('span', { class: 'call-timer-value', 'data-since': new Date(since).toISOString(), text: duration(serverNow() - since) })),
    muted && h('span', {
      class: 'call-muted',
      text: state.voiceCall ? 'Muted: the caller cannot hear you' : 'Muted (simulated: the sandbox has no audio)',
    }));
}

/**
 * The current call, draggable onto a free slot; Mute and Hang up where the page holds the
 * call (the browser phone, or the sandbox's simulated one).
 * @param {CurrentCall} call
 */
function callCard(call) {
  const own = canHangUp(call);
  const muted = isMuted(call);
  return h('div', { class: 'call-wrap' },
    h('div', {
      class: `call-card${state.choosing ? ' is-choosing' : ''}`,
      id: 'call-card',
      draggable: 'true',
      tabindex: '0',
      role: 'button',
      'aria-label': `Call with ${callerTitle(call)}. Press Enter to park it, then choose a slot.`,
      'aria-describedby': 'call-help',
      'aria-pressed': state.choosing ? 'true' : 'false',
      'data-caller-number': call.callerNumber || '',
      'data-call-sid': call.callSid,
    },
    h('div', { class: 'call-grip', 'aria-hidden': 'true' }),
    h('div', { class: 'call-body' },
      h('p', { class: 'call-label', text: 'On a call with' }),
      h('p', { class: 'call-caller', text: callerTitle(call) }),
      h('p', { class: 'call-sub', text: callerSubtitle(call) || 'No caller name' }),
      fromLot(call) && h('p', { class: 'call-origin', text: fromLot(call) }))),
    callStatus(call),
    h('p', { class: 'muted small call-help', id: 'call-help', text: 'Drag the call onto a free slot, or press Park and pick a slot (keys 1–9 work too).' }),
    h('div', { class: 'call-actions' },
      h('button', { type: 'button', class: 'btn btn-primary', id: 'park-button', 'data-action': 'choose', 'aria-expanded': state.choosing ? 'true' : 'false', text: state.choosing ? 'Cancel' : 'Park…' }),
      own && h('button', {
        type: 'button', class: `btn btn-secondary btn-mute${muted ? ' is-on' : ''}`, 'data-action': 'mute',
        'aria-pressed': muted ? 'true' : 'false', text: 'Mute',
      }),
      own && h('button', {
        type: 'button', class: 'btn btn-danger', 'data-action': 'hangup-mine', 'aria-haspopup': 'dialog',
        'aria-label': `Hang up on ${callerTitle(call)}…`, text: 'Hang up…',
      }),
      state.me && state.me.sandbox && !state.voiceCall && call.pstnCallSid && h('button', {
        type: 'button', class: 'btn btn-link btn-sm', 'data-action': 'hangup-call', 'data-pstn': call.pstnCallSid,
        title: 'Sandbox: the simulated caller ends the call', text: 'Caller hangs up',
      })));
}
