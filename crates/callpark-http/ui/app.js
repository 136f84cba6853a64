// callpark — the agents' parking-lot page. Plain ES module, no build step: the service embeds
// this file and serves it under a strict CSP (no inline script or style).

import { startVoice, describeCall } from './voice.js';

const EVENT_TYPES = [
  'parked', 'updated', 'retrieving', 'retrieved', 'returned',
  'abandoned', 'timed_out', 'voicemail', 'failed',
];
const DRAG_TYPE = 'application/x-callpark-call';
/** How long an accepted park/retrieve may show optimistically before the live feed confirms it. */
const PENDING_GRACE_MS = 10_000;
const DEADLINE_WARNING_MS = 30_000;

const $ = (id) => document.getElementById(id);

const state = {
  me: null,
  agents: new Map(),
  /** The lot as the server last told us: {org, slots: [{slot, state, call?}]}. */
  lot: null,
  /** The sequence of the last snapshot or event applied. */
  seq: -1,
  /** Server clock minus client clock, in ms (0 unless the clocks clearly disagree). */
  skewMs: 0,
  skewKnown: false,
  /** Optimistic operations by slot: {kind: 'park'|'retrieve', ...}. */
  pending: new Map(),
  /** The current call while its park request is in flight: its card is hidden meanwhile. */
  parking: null,
  choosing: false,
  dragging: false,
  dragOver: null,
  conn: 'connecting',
  voice: null,
  voiceStatus: null,
  /** The Voice SDK call ringing in, and the one in progress. */
  incoming: null,
  voiceCall: null,
  /**
   * Agent legs (call SIDs) this page knows have ended (the caller hung up, or the service said
   * the caller is gone) although /api/me may still name them as the current call.
   */
  endedCalls: new Set(),
};

let events = null;
let reconnectTimer = null;
let reconnectDelay = 1000;
let digitBuffer = '';
let digitTimer = null;

// ---------------------------------------------------------------------------------------------
// HTTP

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** A same-origin JSON request; the session cookie authenticates it unless a token is given. */
async function api(method, path, { body, token } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  const sent = Date.now();
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'network', 'The service cannot be reached. Check your connection and try again.');
  }
  noteServerClock(response, sent, Date.now());
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = data && data.error;
    throw new ApiError(
      response.status,
      (error && error.code) || `http_${response.status}`,
      (error && error.message) || `The service answered ${response.status} ${response.statusText}.`,
    );
  }
  return data;
}

/**
 * Clock skew, once, from the first response's Date header. The header has one-second
 * resolution, so a difference under 1.5 s is indistinguishable from none and is taken as none.
 */
function noteServerClock(response, sent, received) {
  if (state.skewKnown) return;
  const date = Date.parse(response.headers.get('Date') || '');
  if (Number.isNaN(date)) return;
  state.skewKnown = true;
  const estimate = date + 500 - (sent + received) / 2;
  state.skewMs = Math.abs(estimate) > 1500 ? Math.round(estimate) : 0;
}

const serverNow = () => Date.now() + state.skewMs;

// ---------------------------------------------------------------------------------------------
// Formatting

function formatNumber(number) {
  if (!number) return 'Unknown caller';
  const nanp = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(number);
  if (nanp) return `+1 ${nanp[1]}-${nanp[2]}-${nanp[3]}`;
  return number;
}

function callerTitle(call) {
  return call.callerName || formatNumber(call.callerNumber);
}

function callerSubtitle(call) {
  return call.callerName ? formatNumber(call.callerNumber) : null;
}

function duration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

function agentName(identity) {
  if (!identity) return 'someone';
  if (state.me && identity === state.me.identity) return 'you';
  const agent = state.agents.get(identity);
  return (agent && agent.displayName) || identity;
}

function sentence(text) {
  const t = String(text || '').trim();
  if (!t) return '';
  const s = t[0].toUpperCase() + t.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

const STATUS_LABELS = { available: 'Available', on_call: 'On a call', offline: 'Offline' };

// ---------------------------------------------------------------------------------------------
// DOM helpers: elements are built with textContent only (caller names are untrusted).

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key.startsWith('data-') || key.startsWith('aria-') || key === 'role' || key === 'tabindex' || key === 'draggable' || key === 'for' || key === 'title' || key === 'type' || key === 'id') {
      el.setAttribute(key, value === true ? '' : String(value));
    } else el[key] = value;
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

let announceTimer = null;
function announce(message) {
  const region = $('announcer');
  region.textContent = '';
  clearTimeout(announceTimer);
  // A fresh text node after a tick, so that a repeated message is read again.
  announceTimer = setTimeout(() => {
    region.textContent = message;
  }, 50);
}

function showError(message) {
  $('alert-text').textContent = message;
  $('alert').hidden = false;
}

function clearError() {
  $('alert').hidden = true;
  $('alert-text').textContent = '';
}

// ---------------------------------------------------------------------------------------------
// Session

function takeTokenFromFragment() {
  const match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (!match) return null;
  // The token must not linger in the address bar, history or a shared screenshot.
  history.replaceState(null, '', window.location.pathname + window.location.search);
  return decodeURIComponent(match[1]);
}

async function boot() {
  wireStaticHandlers();
  const token = takeTokenFromFragment();
  try {
    // With a token: the bearer header. Without: the session cookie of an earlier sign-in.
    await api('POST', '/api/session', { token: token || undefined });
    await start(await api('GET', '/api/me'));
  } catch (error) {
    if (error.status === 401) {
      showSignIn(token ? 'That sign-in link is not valid (any more). Paste a current agent token.' : null);
    } else {
      showSignIn(error.message);
    }
  }
}

async function signInWith(token) {
  const errorEl = $('signin-error');
  errorEl.hidden = true;
  try {
    await api('POST', '/api/session', { token });
    $('token-input').value = '';
    await start(await api('GET', '/api/me'));
  } catch (error) {
    errorEl.textContent = error.status === 401 ? 'That token was not accepted. Check it and try again.' : error.message;
    errorEl.hidden = false;
    $('token-input').setAttribute('aria-invalid', 'true');
    $('token-input').focus();
  }
}

function showSignIn(message) {
  stopLive();
  $('workspace').hidden = true;
  $('session').hidden = true;
  $('org-name').hidden = true;
  $('signin').hidden = false;
  const errorEl = $('signin-error');
  errorEl.hidden = !message;
  errorEl.textContent = message || '';
  $('token-input').focus();
}

async function start(me) {
  state.me = me;
  clearError();
  $('signin').hidden = true;
  $('workspace').hidden = false;
  $('session').hidden = false;
  $('sandbox-panel').hidden = !me.sandbox;
  document.title = `Parking lot · ${me.org} · callpark`;
  renderHeader();
  renderCall();
  refreshAgents(0);
  connectEvents(null);
  if (me.voice) startPhone();
}

async function signOut() {
  const voice = state.voice;
  stopLive();
  try {
    await api('DELETE', '/api/session');
  } catch {
    // Signed out locally either way; the cookie is HTTP-only and the server clears it.
  }
  if (voice) voice.destroy();
  Object.assign(state, {
    me: null, lot: null, seq: -1, pending: new Map(), parking: null, choosing: false, endedCalls: new Set(),
    voice: null, voiceStatus: null, incoming: null, voiceCall: null,
  });
  $('grid').replaceChildren();
  $('call-area').replaceChildren();
  delete $('call-area').dataset.signature;
  showSignIn(null);
  announce('Signed out.');
}

function sessionEnded() {
  if (state.voice) state.voice.destroy();
  state.voice = null;
  state.me = null;
  showSignIn('Your session ended. Sign in again.');
}

// ---------------------------------------------------------------------------------------------
// Live lot: EventSource on /api/events, authenticated by the session cookie.

function connectEvents(resumeFrom) {
  stopLive();
  // A new EventSource sends no Last-Event-ID of its own: resume through the query instead.
  const url = resumeFrom !== null && resumeFrom >= 0 ? `/api/events?lastEventId=${resumeFrom}` : '/api/events';
  const source = new EventSource(url, { withCredentials: true });
  events = source;
  source.onopen = () => {
    reconnectDelay = 1000;
    setConn('live');
  };
  source.onerror = () => {
    if (events !== source) return;
    setConn('reconnecting');
    // CONNECTING: the browser retries by itself with Last-Event-ID. CLOSED: it gave up (an
    // error status, e.g. a signed-out session); we retry, after checking the session.
    if (source.readyState === EventSource.CLOSED) scheduleReconnect();
  };
  source.addEventListener('snapshot', (e) => applySnapshot(JSON.parse(e.data)));
  for (const type of EVENT_TYPES) {
    source.addEventListener(type, (e) => applyEvent(JSON.parse(e.data)));
  }
}

function stopLive() {
  clearTimeout(reconnectTimer);
  if (events) {
    events.close();
    events = null;
  }
}

function scheduleReconnect() {
  clearTimeout(reconnectTimer);
  reconnectTimer = setTimeout(async () => {
    try {
      await api('GET', '/api/me');
    } catch (error) {
      if (error.status === 401) {
        sessionEnded();
        return;
      }
      reconnectDelay = Math.min(reconnectDelay * 2, 15_000);
      scheduleReconnect();
      return;
    }
    connectEvents(state.seq);
  }, reconnectDelay);
}

function setConn(conn) {
  state.conn = conn;
  const el = $('conn');
  el.dataset.state = conn;
  $('conn-label').textContent = { live: 'Live', reconnecting: 'Reconnecting…', connecting: 'Connecting…' }[conn];
  $('stale').hidden = conn !== 'reconnecting';
  $('grid').classList.toggle('is-stale', conn === 'reconnecting');
  el.title = conn === 'live'
    ? 'Live updates are on'
    : 'Live updates are down: the lot may be out of date until they are back';
}

function emptySlot(slot) {
  return { slot, state: 'free' };
}

function slotOf(n) {
  return state.lot && state.lot.slots.find((s) => s.slot === n);
}

function applySnapshot(lot) {
  // A snapshot replaces everything, whatever its sequence (a restarted in-memory service
  // starts again from zero).
  state.lot = { org: lot.org, slots: lot.slots.map((s) => ({ slot: s.slot, state: s.state, call: s.call })) };
  state.seq = lot.sequence;
  settlePending();
  render();
  refreshMe();
  refreshAgents();
}

function applyEvent(event) {
  if (!state.lot || event.sequence <= state.seq) return;
  state.seq = event.sequence;
  const next = event.state === 'free' ? emptySlot(event.slot) : { slot: event.slot, state: event.state, call: event.call };
  const index = state.lot.slots.findIndex((s) => s.slot === event.slot);
  if (index >= 0) state.lot.slots[index] = next;
  else {
    state.lot.slots.push(next);
    state.lot.slots.sort((a, b) => a.slot - b.slot);
  }
  settlePending();
  announceEvent(event);
  if (concernsMe(event)) refreshMe();
  refreshAgents();
  render();
}

/** Whether an event may have changed this agent's own call or status. */
function concernsMe(event) {
  const me = state.me;
  if (!me) return false;
  const call = event.call || {};
  const mine = currentCall();
  return call.retrievingAgent === me.identity
    || call.parkedBy === me.identity
    || (mine && mine.pstnCallSid && mine.pstnCallSid === call.pstnCallSid);
}

function announceEvent(event) {
  const call = event.call || {};
  const who = callerTitle(call);
  const slot = `Slot ${event.slot}`;
  const byMe = (identity) => state.me && identity === state.me.identity;
  switch (event.type) {
    case 'parked':
      if (!byMe(call.parkedBy)) announce(`${slot}: ${who} parked by ${agentName(call.parkedBy)}.`);
      break;
    case 'retrieving':
      if (call.retrievingAgent && !byMe(call.retrievingAgent)) announce(`${slot}: ${agentName(call.retrievingAgent)} is retrieving ${who}.`);
      break;
    case 'retrieved':
      announce(`${slot} is free: ${agentName(call.retrievingAgent)} took ${who}.`);
      break;
    case 'returned':
      announce(`${slot}: ${who} is back on hold; ${agentName(call.retrievingAgent)} did not answer.`);
      break;
    case 'abandoned':
      announce(`${slot} is free: ${who} hung up.`);
      break;
    case 'timed_out':
      announce(`${slot}: hold time is up for ${who}.`);
      break;
    case 'voicemail':
      announce(`${slot} is free: ${who} went to voicemail.`);
      break;
    case 'failed':
      if (byMe(call.parkedBy)) showError(`Parking ${who} in slot ${event.slot} failed: the caller could not be moved to the lot.`);
      else announce(`${slot}: parking ${who} failed.`);
      break;
    default:
      break;
  }
}

/** Drops optimistic operations the live lot has caught up with. */
function settlePending() {
  for (const [slot, op] of state.pending) {
    const s = slotOf(slot);
    if (!s) continue;
    if (op.kind === 'park') {
      const landed = s.call && ((op.pstn && s.call.pstnCallSid === op.pstn) || (op.id && s.call.id === op.id));
      if (landed) state.pending.delete(slot);
    } else if (op.kind === 'retrieve') {
      if (!s.call || s.call.id !== op.callId || s.state !== 'parked') state.pending.delete(slot);
    }
  }
}

function expirePending(slot, op) {
  setTimeout(() => {
    if (state.pending.get(slot) === op) {
      state.pending.delete(slot);
      render();
    }
  }, PENDING_GRACE_MS);
}

// ---------------------------------------------------------------------------------------------
// The agent, the team, the current call

let meInFlight = null;
let meAgain = false;

/** GET /api/me, coalesced: a request asked for while one is running runs once after it. */
function refreshMe() {
  if (meInFlight) {
    meAgain = true;
    return meInFlight;
  }
  meInFlight = (async () => {
    do {
      meAgain = false;
      try {
        const me = await api('GET', '/api/me');
        if (!state.me) return;
        state.me = me;
      } catch (error) {
        if (error.status === 401 && state.me) sessionEnded();
        return;
      }
    } while (meAgain);
    renderHeader();
    renderCall();
    render();
  })().finally(() => {
    meInFlight = null;
  });
  return meInFlight;
}

let agentsTimer = null;
/** GET /api/agents, at most once per burst of events. */
function refreshAgents(delayMs = 150) {
  clearTimeout(agentsTimer);
  agentsTimer = setTimeout(async () => {
    try {
      const agents = await api('GET', '/api/agents');
      state.agents = new Map(agents.map((a) => [a.identity, a]));
      renderTeam();
      render();
    } catch {
      // The team list is a convenience; the lot does not depend on it.
    }
  }, delayMs);
}

/** The call this agent is on: the Voice SDK's when the browser is the phone, else the server's. */
function currentCall() {
  if (!state.me) return null;
  if (state.voiceCall) return state.voiceCall.parked ? null : state.voiceCall;
  if (state.me.voice && state.voice) return null;
  const call = state.me.currentCall;
  return call && !state.endedCalls.has(call.callSid) ? call : null;
}

// ---------------------------------------------------------------------------------------------
// Rendering

function renderHeader() {
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

function renderTeam() {
  const list = $('team');
  const agents = [...state.agents.values()].sort((a, b) => (a.displayName || a.identity).localeCompare(b.displayName || b.identity));
  list.replaceChildren(...agents.map((a) => h('li', { class: 'team-member' },
    h('span', { class: `dot dot--${a.status}`, 'aria-hidden': 'true' }),
    h('span', { class: 'team-name', text: (a.displayName || a.identity) + (state.me && a.identity === state.me.identity ? ' (you)' : '') }),
    h('span', { class: 'team-status', text: STATUS_LABELS[a.status] || a.status }),
  )));
}

function renderCall() {
  const area = $('call-area');
  const call = currentCall();
  const simulate = $('simulate-call');
  if (simulate) simulate.disabled = Boolean(call) || Boolean(state.parking) || simulate.dataset.busy === 'true';
  if (!call && state.choosing) exitChoosing(false);
  // Rebuilt only when what it shows changed: replacing the card in the middle of a drag would
  // lose the drag's end.
  const signature = JSON.stringify([
    state.incoming && describeCall(state.incoming),
    state.parking && [state.parking.slot, state.parking.call.callSid],
    call && { ...call, call: undefined },
    state.choosing, Boolean(state.voiceCall), state.voiceStatus, state.me && state.me.sandbox,
  ]);
  if (area.dataset.signature === signature) return;
  area.dataset.signature = signature;
  const focusWasOnCard = document.activeElement && document.activeElement.id === 'call-card';
  let content;
  if (state.incoming) {
    const info = describeCall(state.incoming);
    content = h('div', { class: 'call-card call-card--ringing', id: 'call-card', tabindex: '-1' },
      h('div', { class: 'call-icon call-icon--ringing', 'aria-hidden': 'true' }),
      h('div', { class: 'call-body' },
        h('p', { class: 'call-label', text: ringingLabel(info) }),
        h('p', { class: 'call-caller', text: callerTitle(info) }),
        callerSubtitle(info) && h('p', { class: 'call-sub', text: callerSubtitle(info) })),
      h('div', { class: 'call-actions' },
        h('button', { type: 'button', class: 'btn btn-primary', 'data-action': 'accept', text: 'Accept' }),
        h('button', { type: 'button', class: 'btn btn-danger', 'data-action': 'reject', text: 'Reject' })));
  } else if (state.parking) {
    const info = state.parking.call;
    content = h('div', { class: 'call-empty call-empty--parking' },
      h('p', { class: 'call-empty-title', text: `Parking in slot ${state.parking.slot}…` }),
      h('p', { class: 'muted small', text: callerTitle(info) }));
  } else if (call) {
    content = h('div', { class: 'call-wrap' },
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
        h('p', { class: 'call-sub', text: callerSubtitle(call) || 'No caller name' }))),
      h('p', { class: 'muted small call-help', id: 'call-help', text: 'Drag the call onto a free slot, or press Park and pick a slot (keys 1–9 work too).' }),
      h('div', { class: 'call-actions' },
        h('button', { type: 'button', class: 'btn btn-primary', id: 'park-button', 'data-action': 'choose', 'aria-expanded': state.choosing ? 'true' : 'false', text: state.choosing ? 'Cancel' : 'Park…' }),
        state.voiceCall && h('button', { type: 'button', class: 'btn btn-danger', 'data-action': 'hangup-voice', text: 'Hang up' }),
        state.me.sandbox && !state.voiceCall && call.pstnCallSid && h('button', {
          type: 'button', class: 'btn btn-secondary', 'data-action': 'hangup-call', 'data-pstn': call.pstnCallSid, text: 'Caller hangs up',
        })));
  } else {
    let hint = 'Calls you answer show here, ready to park.';
    if (state.me && state.me.sandbox) hint = 'Press “Simulate incoming call” to get a caller.';
    content = h('div', { class: 'call-empty' },
      h('p', { class: 'call-empty-title', text: 'No call right now' }),
      h('p', { class: 'muted small', text: hint }));
  }
  const children = [content];
  if (state.me && state.me.voice) {
    const labels = { ready: 'Phone ready: calls ring in this browser.', connecting: 'Connecting the phone…', offline: 'Phone offline.' };
    children.push(h('p', { class: `phone-status phone-status--${state.voiceStatus && state.voiceStatus.kind || 'connecting'}`, role: 'status' },
      (state.voiceStatus && state.voiceStatus.text) || labels.connecting));
  }
  area.replaceChildren(...children);
  if (focusWasOnCard && $('call-card')) $('call-card').focus();
}

function ringingLabel(info) {
  if (!info.retrievedFrom) return 'Incoming call';
  if (info.reason === 'ringback') return `Hold time is up in slot ${info.retrievedFrom}: ringing you back`;
  return `Retrieved from slot ${info.retrievedFrom}, ringing`;
}

/** What a slot shows: the server's state with this page's optimistic operations on top. */
function slotView(s) {
  const op = state.pending.get(s.slot);
  if (s.state === 'free') {
    if (op && op.kind === 'park') {
      return {
        occupied: true, state: 'parking', optimistic: true,
        call: { callerNumber: op.caller.callerNumber, callerName: op.caller.callerName, parkedBy: state.me.identity, parkedAt: op.at, deadline: null },
      };
    }
    return { occupied: false };
  }
  const view = { occupied: true, state: s.state, call: s.call, optimistic: false, retrievingAgent: s.call && s.call.retrievingAgent, ringback: s.call && s.call.ringback, toVoicemail: Boolean(s.call && s.call.toVoicemail) };
  if (op && op.kind === 'retrieve' && s.state === 'parked') {
    view.state = 'retrieving';
    view.optimistic = true;
    view.retrievingAgent = state.me.identity;
    view.ringback = false;
  }
  return view;
}

/** The short state shown on the slot's badge. */
function stateBadge(view) {
  switch (view.state) {
    case 'parking': return 'Parking…';
    case 'parked': return 'Parked';
    case 'retrieving': return view.toVoicemail ? 'To voicemail' : view.ringback ? 'Ringing back' : 'Retrieving';
    default: return view.state;
  }
}

/** The state in words: parking, parked, or being retrieved by whom. */
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

function buildSlot(s, view) {
  const n = s.slot;
  const title = h('h3', { class: 'slot-title' },
    h('span', { class: 'sr-only', text: 'Slot ' }),
    h('span', { class: 'slot-num', text: String(n) }));
  if (!view.occupied) {
    const hint = h('p', { class: 'slot-hint', text: state.dragOver === n ? 'Release to park' : 'Drop call here' });
    const head = h('div', { class: 'slot-head' }, title, h('span', { class: 'pill pill--free', text: 'Free' }));
    if (state.choosing) {
      return [h('button', {
        type: 'button', class: 'slot-pick', 'data-action': 'pick', 'data-slot': n,
        'aria-label': `Park in slot ${n}`,
      }, head, h('p', { class: 'slot-hint', text: `Park here (${n <= 9 ? `key ${n}` : 'press'})` }))];
    }
    return [head, hint];
  }
  const call = view.call || {};
  const busy = view.optimistic || view.state !== 'parked';
  const children = [
    h('div', { class: 'slot-head' }, title,
      h('span', { class: `pill pill--${view.state}`, text: stateBadge(view) })),
    h('p', { class: 'caller' },
      h('span', { class: 'caller-primary', 'data-caller-number': call.callerNumber || '', text: callerTitle(call) }),
      callerSubtitle(call) && h('span', { class: 'caller-secondary', text: callerSubtitle(call) })),
    h('p', { class: 'meta', text: `Parked by ${agentName(call.parkedBy)}` }),
    view.state !== 'parked' && h('p', { class: `slot-status slot-status--${view.state}`, text: stateLabel(view) }),
    h('div', { class: 'timers' },
      h('span', { class: 'timer' },
        h('span', { class: 'timer-label', text: 'On hold ' }),
        h('span', { class: 'timer-value', 'data-since': call.parkedAt, text: duration(serverNow() - Date.parse(call.parkedAt)) })),
      call.deadline && view.state === 'parked' && h('span', {
        class: 'deadline', 'data-deadline': call.deadline,
        title: 'Hold time left before the time-out rings the parker back or takes a message',
      },
        h('span', { class: 'deadline-value', text: duration(Date.parse(call.deadline) - serverNow()) }),
        h('span', { class: 'deadline-label', text: ' left' }))),
  ];
  const actions = h('div', { class: 'slot-actions' },
    h('button', {
      type: 'button', class: 'btn btn-primary btn-sm', 'data-action': 'retrieve', 'data-slot': n,
      disabled: busy, 'aria-label': `Retrieve ${callerTitle(call)} from slot ${n}`, text: view.optimistic && view.state === 'retrieving' ? 'Retrieving…' : 'Retrieve',
    }),
    state.me.sandbox && call.pstnCallSid && !view.optimistic && h('button', {
      type: 'button', class: 'btn btn-link btn-sm', 'data-action': 'hangup-call', 'data-pstn': call.pstnCallSid, 'data-slot': n,
      'aria-label': `Caller in slot ${n} hangs up`, text: 'Caller hangs up',
    }));
  children.push(actions);
  return children;
}

function render() {
  if (!state.me || !state.lot) {
    renderCall();
    return;
  }
  const grid = $('grid');
  const hasCall = Boolean(currentCall()) && !state.parking;
  const existing = new Map([...grid.children].map((li) => [Number(li.dataset.slot), li]));
  const active = document.activeElement;
  const activeKey = active && grid.contains(active) ? active.dataset.action && `${active.dataset.action}:${active.dataset.slot}` : null;
  let free = 0;
  state.lot.slots.forEach((s, index) => {
    const view = slotView(s);
    if (!view.occupied) free += 1;
    const signature = JSON.stringify([view, state.choosing, hasCall, state.agents.size, state.me.sandbox]);
    let li = existing.get(s.slot);
    existing.delete(s.slot);
    if (!li) {
      li = h('li', { class: 'slot', 'data-slot': s.slot, tabindex: '-1' });
    }
    if (grid.children[index] !== li) grid.insertBefore(li, grid.children[index] || null);
    if (li.dataset.signature === signature) return;
    li.dataset.signature = signature;
    li.dataset.state = view.occupied ? view.state : 'free';
    li.className = [
      'slot',
      `slot--${view.occupied ? view.state : 'free'}`,
      !view.occupied && hasCall ? 'is-target' : '',
      !view.occupied && state.dragOver === s.slot ? 'is-drop-hover' : '',
      view.optimistic ? 'is-optimistic' : '',
    ].filter(Boolean).join(' ');
    li.setAttribute('aria-label', view.occupied
      ? `Slot ${s.slot}: ${callerTitle(view.call || {})}, ${stateLabel(view)}`
      : `Slot ${s.slot}: free`);
    li.replaceChildren(...buildSlot(s, view).filter(Boolean));
  });
  for (const li of existing.values()) li.remove();
  if (activeKey && !grid.contains(document.activeElement)) {
    const [action, slot] = activeKey.split(':');
    const again = grid.querySelector(`[data-action="${action}"][data-slot="${slot}"]`);
    (again || grid.querySelector(`li[data-slot="${slot}"]`))?.focus();
  }
  const total = state.lot.slots.length;
  $('lot-summary').textContent = `${free} of ${total} slot${total === 1 ? '' : 's'} free`;
  $('choose-hint').hidden = !state.choosing;
  document.body.classList.toggle('is-choosing', state.choosing);
  renderCall();
  tick();
}

/** Timers recomputed from parkedAt and deadline on every tick: they never drift. */
function tick() {
  const now = serverNow();
  for (const el of document.querySelectorAll('[data-since]')) {
    const text = duration(now - Date.parse(el.dataset.since));
    if (el.textContent !== text) el.textContent = text;
  }
  for (const el of document.querySelectorAll('[data-deadline]')) {
    const left = Date.parse(el.dataset.deadline) - now;
    const value = el.querySelector('.deadline-value');
    const text = duration(left);
    if (value.textContent !== text) value.textContent = text;
    el.classList.toggle('is-warning', left < DEADLINE_WARNING_MS);
  }
}

// ---------------------------------------------------------------------------------------------
// Parking and retrieving, optimistically

function enterChoosing() {
  if (!currentCall() || state.parking) return;
  const free = state.lot ? state.lot.slots.filter((s) => !slotView(s).occupied) : [];
  if (free.length === 0) {
    showError('The lot is full: there is no free slot to park in.');
    return;
  }
  state.choosing = true;
  render();
  announce('Choose a slot: press a free slot or type its number. Escape cancels.');
  const first = $('grid').querySelector('[data-action="pick"]');
  if (first) first.focus();
}

function exitChoosing(refocus) {
  if (!state.choosing) return;
  state.choosing = false;
  digitBuffer = '';
  render();
  if (refocus && $('call-card')) $('call-card').focus();
}

async function park(slot) {
  const call = currentCall();
  if (!call || state.parking) return;
  const s = slotOf(slot);
  if (!s) {
    showError(`There is no slot ${slot} in this lot.`);
    return;
  }
  if (slotView(s).occupied) {
    showError(`Slot ${slot} is taken. Choose a free slot.`);
    return;
  }
  state.choosing = false;
  digitBuffer = '';
  clearError();
  const op = {
    kind: 'park', pstn: call.pstnCallSid, id: null,
    caller: { callerNumber: call.callerNumber, callerName: call.callerName },
    at: new Date(serverNow()).toISOString(),
  };
  state.pending.set(slot, op);
  state.parking = { slot, call };
  render();
  announce(`Parking ${callerTitle(call)} in slot ${slot}…`);
  try {
    const parked = await api('POST', '/api/park', { body: { callSid: call.callSid, slot } });
    op.id = parked.id;
    op.pstn = parked.pstnCallSid;
    settlePending();
    expirePending(slot, op);
    state.parking = null;
    if (state.voiceCall) state.voiceCall.parked = true;
    else if (state.me) state.me.currentCall = null;
    announce(`Parked ${callerTitle(call)} in slot ${parked.slot}.`);
    render();
    refreshMe();
  } catch (error) {
    if (state.pending.get(slot) === op) state.pending.delete(slot);
    state.parking = null;
    if (error.code === 'caller_gone' || error.code === 'call_not_found') state.endedCalls.add(call.callSid);
    render();
    showError(`Could not park the call in slot ${slot}. ${sentence(error.message)}`);
    if ($('call-card')) $('call-card').focus();
    refreshMe();
  }
}

async function retrieve(slot) {
  const s = slotOf(slot);
  if (!s || !s.call || s.state !== 'parked' || state.pending.has(slot)) return;
  clearError();
  const op = { kind: 'retrieve', callId: s.call.id };
  state.pending.set(slot, op);
  render();
  const who = callerTitle(s.call);
  announce(`Retrieving ${who} from slot ${slot}…`);
  try {
    await api('POST', `/api/lot/${slot}/retrieve`);
    settlePending();
    expirePending(slot, op);
    announce(`Connecting you to ${who}.`);
    render();
    refreshMe();
  } catch (error) {
    if (state.pending.get(slot) === op) state.pending.delete(slot);
    render();
    showError(`Could not retrieve the call in slot ${slot}. ${sentence(error.message)}`);
  }
}

async function simulateCall() {
  const button = $('simulate-call');
  button.dataset.busy = 'true';
  button.disabled = true;
  clearError();
  try {
    const created = await api('POST', '/api/sandbox/calls', { body: {} });
    await refreshMe();
    announce(`Call from ${formatNumber(created.from)} answered. Drag it onto a free slot or press Park.`);
    if ($('call-card')) $('call-card').focus();
  } catch (error) {
    showError(`Could not simulate a call. ${sentence(error.message)}`);
  } finally {
    button.dataset.busy = 'false';
    renderCall();
  }
}

async function hangUp(pstn, slot) {
  clearError();
  try {
    await api('POST', `/api/sandbox/calls/${encodeURIComponent(pstn)}/hangup`);
    const mine = state.me && state.me.currentCall;
    if (mine && mine.pstnCallSid === pstn) state.endedCalls.add(mine.callSid);
    if (!slot) announce('The caller hung up.');
    render();
    await refreshMe();
  } catch (error) {
    showError(`Could not hang up. ${sentence(error.message)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// The browser phone (Twilio Voice SDK), when the service issues Voice tokens

async function startPhone() {
  state.voiceStatus = { kind: 'connecting', text: 'Connecting the phone…' };
  renderCall();
  try {
    state.voice = await startVoice({
      fetchToken: () => api('GET', '/api/token'),
      onStatus: (kind) => {
        const text = { ready: 'Phone ready: calls ring in this browser.', connecting: 'Connecting the phone…', offline: 'Phone offline: calls will not ring here.' }[kind];
        state.voiceStatus = { kind, text };
        renderCall();
      },
      onError: (error) => {
        state.voiceStatus = { kind: 'error', text: `Phone problem: ${error.message || error}` };
        renderCall();
      },
      onIncoming: (call) => {
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
          if ($('call-card')) $('call-card').focus();
        });
        call.on('disconnect', () => {
          if (state.voiceCall && state.voiceCall.call === call) state.voiceCall = null;
          render();
          refreshMe();
        });
        const info = describeCall(call);
        announce(`Incoming call from ${callerTitle(info)}. Accept or reject.`);
        renderCall();
        const accept = document.querySelector('[data-action="accept"]');
        if (accept) accept.focus();
      },
    });
  } catch (error) {
    state.voiceStatus = { kind: 'error', text: `The browser phone is unavailable: ${error.message || error}` };
    renderCall();
  }
}

// ---------------------------------------------------------------------------------------------
// Input: clicks, keys, drag and drop

function slotFromEvent(event) {
  const li = event.target.closest && event.target.closest('li.slot');
  return li ? Number(li.dataset.slot) : null;
}

function isDropTarget(slot) {
  const s = slotOf(slot);
  return Boolean(s) && !slotView(s).occupied && Boolean(currentCall()) && !state.parking;
}

function setDragOver(slot) {
  if (state.dragOver === slot) return;
  const grid = $('grid');
  for (const n of [state.dragOver, slot]) {
    if (n === null) continue;
    const li = grid.querySelector(`li[data-slot="${n}"]`);
    if (!li) continue;
    const on = n === slot;
    li.classList.toggle('is-drop-hover', on);
    const hint = li.querySelector('.slot-hint');
    if (hint) hint.textContent = on ? 'Release to park' : 'Drop call here';
  }
  state.dragOver = slot;
}

function wireStaticHandlers() {
  $('signin-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const token = $('token-input').value.trim();
    if (!token) {
      $('signin-error').textContent = 'Enter your agent token.';
      $('signin-error').hidden = false;
      $('token-input').focus();
      return;
    }
    signInWith(token);
  });
  $('token-input').addEventListener('input', () => $('token-input').removeAttribute('aria-invalid'));
  $('sign-out').addEventListener('click', signOut);
  $('simulate-call').addEventListener('click', simulateCall);
  $('alert-close').addEventListener('click', () => {
    clearError();
    $('lot-heading').focus();
  });

  document.addEventListener('click', (event) => {
    const button = event.target.closest && event.target.closest('[data-action]');
    if (!button || button.disabled) return;
    const slot = Number(button.dataset.slot);
    switch (button.dataset.action) {
      case 'choose':
        if (state.choosing) exitChoosing(true);
        else enterChoosing();
        break;
      case 'pick':
        park(slot);
        break;
      case 'retrieve':
        retrieve(slot);
        break;
      case 'hangup-call':
        hangUp(button.dataset.pstn, button.dataset.slot ? slot : null);
        break;
      case 'hangup-voice':
        if (state.voiceCall) state.voiceCall.call.disconnect();
        break;
      case 'accept':
        if (state.incoming) state.incoming.accept();
        break;
      case 'reject':
        if (state.incoming) {
          state.incoming.reject();
          state.incoming = null;
          renderCall();
        }
        break;
      default:
        break;
    }
  });

  document.addEventListener('keydown', (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const onCard = event.target && event.target.id === 'call-card';
    if (onCard && (event.key === 'Enter' || event.key === ' ')) {
      event.preventDefault();
      if (state.choosing) exitChoosing(true);
      else enterChoosing();
      return;
    }
    if (event.key === 'Escape' && state.choosing) {
      event.preventDefault();
      exitChoosing(true);
      return;
    }
    // Digits pick a slot while choosing, or straight from the focused call card.
    if ((state.choosing || onCard) && /^[0-9]$/.test(event.key)) {
      event.preventDefault();
      typeDigit(event.key);
    }
  });

  const grid = $('grid');
  grid.addEventListener('dragover', (event) => {
    const slot = slotFromEvent(event);
    if (!state.dragging || slot === null || !isDropTarget(slot)) {
      if (state.dragging) setDragOver(null);
      return; // not a drop target: the browser shows "no drop"
    }
    event.preventDefault();
    event.dataTransfer.dropEffect = 'move';
    setDragOver(slot);
  });
  grid.addEventListener('dragleave', (event) => {
    const li = event.target.closest && event.target.closest('li.slot');
    if (li && !li.contains(event.relatedTarget)) {
      if (state.dragOver === Number(li.dataset.slot)) setDragOver(null);
    }
  });
  grid.addEventListener('drop', (event) => {
    const slot = slotFromEvent(event);
    event.preventDefault();
    const ok = state.dragging && slot !== null && isDropTarget(slot);
    endDrag();
    if (ok) park(slot);
  });

  const area = $('call-area');
  area.addEventListener('dragstart', (event) => {
    if (!event.target || event.target.id !== 'call-card') return;
    const call = currentCall();
    if (!call) {
      event.preventDefault();
      return;
    }
    event.dataTransfer.effectAllowed = 'move';
    event.dataTransfer.setData(DRAG_TYPE, call.callSid);
    event.dataTransfer.setData('text/plain', call.callerNumber || call.callSid);
    state.dragging = true;
    document.body.classList.add('is-dragging');
    event.target.classList.add('is-dragging');
  });
  area.addEventListener('dragend', endDrag);

  setInterval(tick, 250);
  window.addEventListener('online', () => {
    if (state.me && state.conn !== 'live') connectEvents(state.seq);
  });
  // A call answered elsewhere (another softphone) shows when the agent comes back to the page.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && state.me) refreshMe();
  });
}

function endDrag() {
  state.dragging = false;
  document.body.classList.remove('is-dragging');
  const card = $('call-card');
  if (card) card.classList.remove('is-dragging');
  setDragOver(null);
}

function typeDigit(digit) {
  const size = state.lot ? state.lot.slots.length : 0;
  digitBuffer += digit;
  clearTimeout(digitTimer);
  const n = Number(digitBuffer);
  // With ten or more slots, wait a moment for a second digit.
  if (size >= 10 && digitBuffer.length === 1 && n * 10 <= size) {
    digitTimer = setTimeout(() => {
      const pick = Number(digitBuffer);
      digitBuffer = '';
      pickByNumber(pick);
    }, 700);
    return;
  }
  digitBuffer = '';
  pickByNumber(n);
}

function pickByNumber(n) {
  const s = slotOf(n);
  if (!s) {
    announce(`There is no slot ${n}.`);
    return;
  }
  if (slotView(s).occupied) {
    announce(`Slot ${n} is taken. Choose a free slot.`);
    return;
  }
  park(n);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
else boot();
