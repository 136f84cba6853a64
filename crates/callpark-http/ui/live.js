// @ts-check
// The live lot: an EventSource on /api/events, authenticated by the session cookie, that
// resumes after a drop and tells the page each snapshot and event.

import { api, apiError } from './api.js';
import { EVENT_KINDS } from './lot.js';
import { setConn } from './render.js';
import { state } from './state.js';

/** @typedef {import('./api.js').LotEvent} LotEvent */
/** @typedef {import('./api.js').LotSnapshot} LotSnapshot */
/** @typedef {import('./api.js').Agent} Agent */

/**
 * What the page does with the stream; set once by main.js.
 * @typedef {object} LiveHandlers
 * @property {(lot: LotSnapshot) => void} onSnapshot
 * @property {(event: LotEvent) => void} onEvent
 * @property {(event: LotEvent) => void} onNote an event that changes no slot (NOTE_KINDS), for the feed
 * @property {(agents: Agent[]) => void} onAgents the organisation's agents changed (or, at the start, are these)
 * @property {() => void} onSessionEnded the service no longer knows this session
 */

/** @type {LiveHandlers} */
let handlers = { onSnapshot: () => {}, onEvent: () => {}, onNote: () => {}, onAgents: () => {}, onSessionEnded: () => {} };

/**
 * Events about a call that has left the lot already: said in the feed, never applied to a slot
 * (a later call may hold it).
 */
const NOTE_KINDS = Object.freeze(['voicemail_recorded', 'voicemail_handled']);
/** @type {EventSource | null} */
let events = null;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let reconnectTimer;
let reconnectDelay = 1000;

/** @param {LiveHandlers} next */
export function setLiveHandlers(next) {
  handlers = next;
}

/**
 * Opens the stream, from the start (a snapshot) or resuming after a sequence.
 * @param {number | null} resumeFrom
 */
export function connectEvents(resumeFrom) {
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
  source.addEventListener('snapshot', (e) => handlers.onSnapshot(JSON.parse(e.data)));
  // Only the kinds this page knows: the browser drops the others.
  for (const type of EVENT_KINDS) {
    source.addEventListener(type, (e) => handlers.onEvent(JSON.parse(e.data)));
  }
  for (const type of NOTE_KINDS) {
    source.addEventListener(type, (e) => handlers.onNote(JSON.parse(e.data)));
  }
  // Not in the lot's sequence (no id): the Team panel follows statuses without asking.
  source.addEventListener('agents', (e) => handlers.onAgents(JSON.parse(e.data)));
}

export function stopLive() {
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
      if (apiError(error).status === 401) {
        handlers.onSessionEnded();
        return;
      }
      reconnectDelay = Math.min(reconnectDelay * 2, 15_000);
      scheduleReconnect();
      return;
    }
    connectEvents(state.lot.seq);
  }, reconnectDelay);
}
