// @ts-check
// Rendering: the header, the team, the current call and the lot, from the page's state.

import { serverNow } from './api.js';
import { $, h } from './dom.js';
import { STATUS_LABELS, callerSubtitle, callerTitle, duration } from './format.js';
import { displayOrder } from './lot.js';
import { agentName, currentCall, state } from './state.js';
import { renderCall } from './callcard.js';
import { renderWarnings } from './activity.js';
import { WARN_MS } from './warn.js';

export { renderCall };

/** @typedef {import('./api.js').Slot} Slot */
/** @typedef {import('./lot.js').SlotView} SlotView */
/** @typedef {Extract<SlotView, { occupied: true }>} OccupiedView */
/** @typedef {import('./state.js').Conn} Conn */


/**
 * A screen narrow enough for the lot's two columns (app.css): the occupied slots show first
 * there (in the page's order, so the keyboard and screen readers meet them first too).
 */
export const NARROW_SCREEN = window.matchMedia('(max-width: 520px)');

/** @type {Record<Conn, string>} */
const CONN_LABELS = { live: 'Live', reconnecting: 'Reconnecting…', connecting: 'Connecting…' };

/** @param {Conn} conn */
export function setConn(conn) {
  state.conn = conn;
  const el = $('conn');
  el.dataset.state = conn;
  $('conn-label').textContent = CONN_LABELS[conn];
  $('stale').hidden = conn !== 'reconnecting';
  $('grid').classList.toggle('is-stale', conn === 'reconnecting');
  el.title = conn === 'live'
    ? 'Live updates are on'
    : 'Live updates are down: the lot may be out of date until they are back';
}

/** Leaves slot-choosing mode (and forgets the digits typed) and shows the lot without it. */
export function endChoosing() {
  state.choosing = false;
  state.digits = '';
  render();
}

export function renderHeader() {
  const me = state.me;
  if (!me) return;
  $('org-name').textContent = me.org;
  $('org-name').hidden = false;
  $('agent-name').textContent = me.displayName || me.identity;
  const status = $('agent-status');
  status.textContent = STATUS_LABELS[me.status] || me.status;
  status.className = `pill pill--${me.status}`;
  status.setAttribute('aria-label', `Status: ${status.textContent}`);
}

export function renderTeam() {
  const list = $('team');
  const agents = [...state.agents.values()].sort((a, b) => (a.displayName || a.identity).localeCompare(b.displayName || b.identity));
  list.replaceChildren(...agents.map((a) => h('li', { class: 'team-member' },
    h('span', { class: `dot dot--${a.status}`, 'aria-hidden': 'true' }),
    h('span', { class: 'team-name', text: (a.displayName || a.identity) + (state.me && a.identity === state.me.identity ? ' (you)' : '') }),
    h('span', { class: 'team-status', text: STATUS_LABELS[a.status] || a.status }),
  )));
}

/**
 * The short state shown on the slot's badge.
 * @param {OccupiedView} view
 */
function stateBadge(view) {
  switch (view.state) {
    case 'parking': return 'Parking…';
    case 'parked': return 'Parked';
    case 'retrieving': return view.toVoicemail ? 'To voicemail' : view.ringback ? 'Ringing back' : 'Retrieving';
    default: return view.state;
  }
}

/**
 * The state in words: parking, parked, or being retrieved by whom.
 * @param {OccupiedView} view
 */
function stateLabel(view) {
  switch (view.state) {
    case 'parking': return 'Parking: moving the caller to the lot';
    case 'parked': return 'Parked';
    case 'retrieving':
      if (view.toVoicemail) return 'Hold time is up: sending the caller to voicemail';
      return view.ringback
        ? `Hold time is up: ringing ${agentName(view.retrievingAgent)} back`
        : `Being retrieved by ${agentName(view.retrievingAgent)}`;
    default: return view.state;
  }
}

/**
 * A free slot: a drop target, or a button while choosing.
 * @param {number} n
 */
function freeSlot(n) {
  const title = slotTitle(n);
  const head = h('div', { class: 'slot-head' }, title, h('span', { class: 'pill pill--free', text: 'Free' }));
  if (state.choosing) {
    return [h('button', {
      type: 'button', class: 'slot-pick', 'data-action': 'pick', 'data-slot': n,
      'aria-label': `Park in slot ${n}`,
    }, head, h('p', { class: 'slot-hint', text: `Park here (${n <= 9 ? `key ${n}` : 'press'})` }))];
  }
  return [head, h('p', { class: 'slot-hint', text: state.dragOver === n ? 'Release to park' : 'Drop call here' })];
}

/** @param {number} n */
function slotTitle(n) {
  return h('h3', { class: 'slot-title' },
    h('span', { class: 'sr-only', text: 'Slot ' }),
    h('span', { class: 'slot-num', text: String(n) }));
}

/**
 * The slot's Retrieve button; for an agent on a call, "Park mine & retrieve" (a retrieve alone
 * would be refused: it would cost the current caller).
 * @param {number} n
 * @param {OccupiedView} view
 * @param {boolean} hasCall
 */
function retrieveButton(n, view, hasCall) {
  const who = callerTitle(view.call || {});
  const busy = view.optimistic || view.state !== 'parked';
  if (hasCall && !busy) {
    return h('button', {
      type: 'button', class: 'btn btn-primary btn-sm', 'data-action': 'park-and-retrieve', 'data-slot': n,
      'aria-label': `Park my current call and retrieve ${who} from slot ${n}`, text: 'Park mine & retrieve',
    });
  }
  return h('button', {
    type: 'button', class: 'btn btn-primary btn-sm', 'data-action': 'retrieve', 'data-slot': n,
    disabled: busy, 'aria-label': `Retrieve ${who} from slot ${n}`, text: view.optimistic && view.state === 'retrieving' ? 'Retrieving…' : 'Retrieve',
  });
}

/**
 * An occupied slot: the caller, who parked it, the timers, and Retrieve.
 * @param {number} n
 * @param {OccupiedView} view
 * @param {boolean} hasCall whether the agent is on a call
 */
function occupiedSlot(n, view, hasCall) {
  /** @type {Partial<import('./lot.js').ViewCall>} */
  const call = view.call || {};
  return [
    h('div', { class: 'slot-head' }, slotTitle(n),
      h('span', { class: `pill pill--${view.state}`, text: stateBadge(view) })),
    h('p', { class: 'caller' },
      h('span', { class: 'caller-primary', 'data-caller-number': call.callerNumber || '', text: callerTitle(call) }),
      callerSubtitle(call) && h('span', { class: 'caller-secondary', text: callerSubtitle(call) })),
    h('p', { class: 'meta', text: `Parked by ${agentName(call.parkedBy)}` }),
    view.state !== 'parked' && h('p', { class: `slot-status slot-status--${view.state}`, text: stateLabel(view) }),
    h('div', { class: 'timers' },
      h('span', { class: 'timer' },
        h('span', { class: 'timer-label', text: 'On hold ' }),
        h('span', { class: 'timer-value', 'data-since': call.parkedAt, text: duration(serverNow() - Date.parse(call.parkedAt || '')) })),
      call.deadline && view.state === 'parked' && h('span', {
        class: 'deadline', 'data-deadline': call.deadline,
        title: 'Hold time left before the time-out rings the parker back or takes a message',
      },
      h('span', { class: 'deadline-value', text: duration(Date.parse(call.deadline) - serverNow()) }),
      h('span', { class: 'deadline-label', text: ' left' }))),
    h('div', { class: 'slot-actions' },
      retrieveButton(n, view, hasCall),
      state.me && state.me.sandbox && call.pstnCallSid && !view.optimistic && h('button', {
        type: 'button', class: 'btn btn-link btn-sm', 'data-action': 'hangup-call', 'data-pstn': call.pstnCallSid, 'data-slot': n,
        'aria-label': `Caller in slot ${n} hangs up`, text: 'Caller hangs up',
      })),
  ];
}

/**
 * Brings one slot's element up to date, unless what it shows is unchanged.
 * @param {HTMLElement} li
 * @param {Slot} s
 * @param {SlotView} view
 * @param {boolean} hasCall whether the agent has a call to park
 */
function updateSlot(li, s, view, hasCall) {
  const me = /** @type {import('./api.js').Me} */ (state.me);
  const refused = state.refusal && state.refusal.slot === s.slot ? state.refusal.id : 0;
  const signature = JSON.stringify([view, state.choosing, hasCall, state.agents.size, me.sandbox, refused]);
  if (li.dataset.signature === signature) return;
  li.dataset.signature = signature;
  const shown = view.occupied ? view.state : 'free';
  li.dataset.state = shown;
  li.className = [
    'slot',
    `slot--${shown}`,
    !view.occupied && hasCall ? 'is-target' : '',
    !view.occupied && state.dragOver === s.slot ? 'is-drop-hover' : '',
    view.occupied && view.optimistic ? 'is-optimistic' : '',
    refused ? 'is-refused' : '',
  ].filter(Boolean).join(' ');
  li.setAttribute('aria-label', view.occupied
    ? `Slot ${s.slot}: ${callerTitle(view.call || {})}, ${stateLabel(view)}`
    : `Slot ${s.slot}: free`);
  const children = view.occupied ? occupiedSlot(s.slot, view, hasCall) : freeSlot(s.slot);
  // Said to screen readers by the live region already.
  if (refused) children.push(h('p', { class: 'slot-refusal', 'aria-hidden': 'true', text: `Slot ${s.slot} is taken` }));
  li.replaceChildren(.../** @type {HTMLElement[]} */ (children.filter(Boolean)));
}

/** The whole page from the state: the lot's grid (each slot only when it changed), then the call. */
export function render() {
  const me = state.me;
  const slots = state.lot.slots;
  if (!me || !slots) {
    renderCall();
    return;
  }
  const grid = $('grid');
  const hasCall = Boolean(currentCall()) && !state.parking;
  const existing = new Map([...grid.children].map((li) => [Number(/** @type {HTMLElement} */ (li).dataset.slot), /** @type {HTMLElement} */ (li)]));
  const active = /** @type {HTMLElement | null} */ (document.activeElement);
  const activeKey = active && grid.contains(active) ? active.dataset.action && `${active.dataset.action}:${active.dataset.slot}` : null;
  const views = slots.map((s) => ({ slot: s.slot, s, view: state.lot.view(s, me.identity) }));
  const free = views.filter((v) => !v.view.occupied).length;
  displayOrder(views, (v) => v.view.occupied, NARROW_SCREEN.matches).forEach(({ s, view }, index) => {
    let li = existing.get(s.slot);
    existing.delete(s.slot);
    if (!li) li = h('li', { class: 'slot', 'data-slot': s.slot, tabindex: '-1' });
    if (grid.children[index] !== li) grid.insertBefore(li, grid.children[index] || null);
    updateSlot(li, s, view, hasCall);
  });
  for (const li of existing.values()) li.remove();
  if (activeKey && !grid.contains(document.activeElement)) {
    const [action, slot] = activeKey.split(':');
    const again = grid.querySelector(`[data-action="${action}"][data-slot="${slot}"]`);
    /** @type {HTMLElement | null} */ (again || grid.querySelector(`li[data-slot="${slot}"]`))?.focus();
  }
  const total = slots.length;
  $('lot-summary').textContent = `${free} of ${total} slot${total === 1 ? '' : 's'} free`;
  $('choose-hint').hidden = !state.choosing;
  document.body.classList.toggle('is-choosing', state.choosing);
  renderCall();
  tick();
}

/** Timers recomputed from parkedAt and deadline on every tick: they never drift. */
export function tick() {
  const now = serverNow();
  for (const el of document.querySelectorAll('[data-since]')) {
    const text = duration(now - Date.parse(/** @type {HTMLElement} */ (el).dataset.since || ''));
    if (el.textContent !== text) el.textContent = text;
  }
  for (const el of document.querySelectorAll('[data-deadline]')) {
    const left = Date.parse(/** @type {HTMLElement} */ (el).dataset.deadline || '') - now;
    const value = /** @type {HTMLElement} */ (el.querySelector('.deadline-value'));
    const text = duration(left);
    if (value.textContent !== text) value.textContent = text;
    el.classList.toggle('is-warning', left < WARN_MS);
  }
  renderWarnings();
}
