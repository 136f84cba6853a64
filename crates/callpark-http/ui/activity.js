// @ts-check
// The activity feed (the live stream in words, newest first) and the time-out warnings: a
// badge per call about to time out, "Take it" on a voicemail-bound call for an available
// agent, an opt-in sound, and a notification while the tab is hidden.

import { serverNow } from './api.js';
import { $, announce, h } from './dom.js';
import { addToFeed, originOf } from './feed.js';
import { callerTitle, duration } from './format.js';
import { refreshAgents } from './session.js';
import { agentName, currentCall, state } from './state.js';
import { WARN_MS, untold, warningsAt } from './warn.js';

/** @typedef {import('./api.js').LotEvent} LotEvent */
/** @typedef {import('./feed.js').FeedLine} FeedLine */
/** @typedef {import('./warn.js').Warning} Warning */

const SOUND_KEY = 'callpark.warningSound';

/** @type {FeedLine[]} newest first */
let feed = [];
/** Calls (ids) whose warning was told (announced, sounded, notified). */
const told = new Set();
/** Calls (ids) that entered the last 30 s: the team's statuses were asked for then. */
const checked = new Set();
/** @type {AudioContext | null} */
let audio = null;

/**
 * An event for the feed; one that gave this agent a call from the lot also says where from.
 * @param {LotEvent} event
 */
export function noteEvent(event) {
  const next = addToFeed(feed, event, agentName);
  const origin = state.me && originOf(event, state.me.identity);
  if (origin) state.origin = origin;
  if (next === feed) return;
  feed = next;
  renderFeed();
}

function renderFeed() {
  const list = $('feed');
  $('feed-empty').hidden = feed.length > 0;
  // Only the new lines are added (the live region reads additions), the oldest dropped.
  const shown = new Set([...list.children].map((li) => /** @type {HTMLElement} */ (li).dataset.key));
  const keep = new Set(feed.map((line) => String(line.key)));
  for (const li of [...list.children]) if (!keep.has(/** @type {HTMLElement} */ (li).dataset.key || '')) li.remove();
  for (const line of [...feed].reverse()) {
    if (shown.has(String(line.key))) continue;
    list.prepend(h('li', { class: 'feed-line', 'data-key': line.key },
      h('time', { class: 'feed-time', datetime: line.at, text: clock(line.at) }),
      h('span', { class: 'feed-text', text: line.text })));
  }
}

/**
 * hh:mm:ss in the agent's time zone.
 * @param {string} at RFC 3339
 */
function clock(at) {
  const d = new Date(at);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** The warnings this agent gets now. */
function currentWarnings() {
  const me = state.me;
  if (!me || !state.lot.slots) return [];
  const now = serverNow();
  for (const s of state.lot.slots) {
    const deadline = s.call && s.state === 'parked' && s.call.deadline;
    // Who would be rung back is decided by the parker's status at the deadline: ask for the
    // team's statuses as each call enters its last 30 s.
    if (deadline && Date.parse(deadline) - now <= WARN_MS && s.call && !checked.has(s.call.id)) {
      checked.add(s.call.id);
      refreshAgents(0);
    }
  }
  /** @param {string} identity */
  const statusOf = (identity) => (identity === me.identity ? me.status : state.agents.get(identity)?.status);
  const free = me.status === 'available' && !currentCall() && !state.parking;
  const voicemailAlways = me.timeoutAction === 'voicemail';
  return warningsAt(state.lot.slots, now, { me: me.identity, free, statusOf, voicemailAlways });
}

/**
 * What a warning says, with its countdown (kept current by render.js's tick).
 * @param {Warning} w
 */
function warningText(w) {
  const who = callerTitle(w.call);
  if (w.kind === 'take') return `${who}, parked by ${agentName(w.call.parkedBy)}, goes to voicemail in `;
  return w.outcome === 'ringback' ? `${who} rings you back in ` : `${who} goes to voicemail in `;
}

/** @param {Warning} w */
function warningItem(w) {
  const deadline = /** @type {string} */ (w.call.deadline);
  return h('li', { class: `warning warning--${w.kind}`, 'data-slot': w.slot, 'data-call': w.call.id },
    h('span', { class: 'warning-badge', text: `Slot ${w.slot}` }),
    h('p', { class: 'warning-text' }, warningText(w),
      h('span', { class: 'warning-left', 'data-deadline': deadline },
        h('span', { class: 'deadline-value', text: duration(w.leftMs) }))),
    w.kind === 'take' && h('button', {
      type: 'button', class: 'btn btn-primary btn-sm', 'data-action': 'retrieve', 'data-slot': w.slot,
      'aria-label': `Take ${callerTitle(w.call)} from slot ${w.slot} before the call goes to voicemail`, text: 'Take it',
    }));
}

/** Brings the warnings up to date (every tick): rebuilt only when which calls warn changes. */
export function renderWarnings() {
  const list = document.getElementById('warnings');
  if (!list) return;
  const warnings = currentWarnings();
  const signature = JSON.stringify(warnings.map((w) => [w.kind, w.outcome, w.slot, w.call.id]));
  if (list.dataset.signature !== signature) {
    list.dataset.signature = signature;
    // The focus stays on "Take it" when the list is rebuilt around it.
    const active = /** @type {HTMLElement | null} */ (document.activeElement);
    const focused = active && list.contains(active) ? active.dataset.slot : null;
    list.replaceChildren(...warnings.map(warningItem));
    $('warnings-none').hidden = warnings.length > 0;
    const again = focused && /** @type {HTMLElement | null} */ (list.querySelector(`[data-action="retrieve"][data-slot="${focused}"]`));
    if (again) again.focus();
    // The call taken ("Take it") is in the call panel now: the focus goes there, not to the page.
    else if (focused) $('call-heading').focus();
  }
  const fresh = untold(warnings, told);
  if (fresh.length) tell(fresh);
}

/**
 * Says new warnings once each: the live region, the sound if the agent turned it on, and a
 * notification while the tab is hidden (when the agent allowed them).
 * @param {Warning[]} fresh
 */
function tell(fresh) {
  const words = fresh.map((w) => `Slot ${w.slot}: ${warningText(w)}${duration(w.leftMs)}${w.kind === 'take' ? '. Take it?' : '.'}`);
  announce(words.join(' '));
  if (soundOn()) beep();
  if (document.visibilityState === 'hidden' && 'Notification' in window && Notification.permission === 'granted') {
    for (const [i, w] of fresh.entries()) {
      try {
        new Notification('callpark: a call is about to time out', { body: words[i], tag: `timeout-${w.call.id}` });
      } catch {
        // A browser that only notifies from a service worker: the badge and the sound remain.
      }
    }
  }
}

function soundOn() {
  try {
    return localStorage.getItem(SOUND_KEY) === 'on';
  } catch {
    return false;
  }
}

/** Two short tones, made here (no audio file to fetch). */
function beep() {
  const Ctx = window.AudioContext;
  if (!Ctx) return;
  audio = audio || new Ctx();
  const start = audio.currentTime;
  for (const [offset, hz] of [[0, 880], [0.25, 660]]) {
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = hz;
    gain.gain.setValueAtTime(0.15, start + offset);
    gain.gain.exponentialRampToValueAtTime(0.001, start + offset + 0.2);
    tone.connect(gain).connect(audio.destination);
    tone.start(start + offset);
    tone.stop(start + offset + 0.2);
  }
  document.body.dataset.warningSound = String(Number(document.body.dataset.warningSound || 0) + 1);
}

/** The sound toggle (remembered in this browser) and the notifications' permission. */
export function wireWarnings() {
  const toggle = /** @type {HTMLInputElement} */ ($('warning-sound'));
  toggle.checked = soundOn();
  toggle.addEventListener('change', () => {
    try {
      localStorage.setItem(SOUND_KEY, toggle.checked ? 'on' : 'off');
    } catch {
      // Private mode: on for this page only.
    }
    // The click lets the page make sound from now on (browsers' autoplay rule).
    if (toggle.checked && window.AudioContext) (audio = audio || new AudioContext()).resume();
  });
  const ask = /** @type {HTMLButtonElement} */ ($('warning-notify'));
  const canAsk = () => 'Notification' in window && Notification.permission === 'default';
  ask.hidden = !canAsk();
  ask.addEventListener('click', async () => {
    await Notification.requestPermission();
    ask.hidden = !canAsk();
    announce(Notification.permission === 'granted'
      ? 'You will be notified when a call is about to time out while this tab is hidden.'
      : 'Notifications are off for this page.');
  });
}
