// @ts-check
// callpark — the agents' parking-lot page: the wiring of its modules. Native ES modules, no
// build step: the service embeds ui/ and serves it under a strict CSP (no inline script or style).

import { noteEvent, wireWarnings } from './activity.js';
import { announce, showError } from './dom.js';
import { wireInput } from './input.js';
import { connectEvents, setLiveHandlers } from './live.js';
import { eventMessage } from './format.js';
import { concerns, withRetriever } from './lot.js';
import { NARROW_SCREEN, render, tick } from './render.js';
import { applyAgents, refreshAgents, refreshMe, sessionEnded } from './session.js';
import { boot } from './signin.js';
import { agentName, currentCall, state } from './state.js';
import { refreshTeamAdmin } from './team-admin.js';
import { voicemailChanged } from './voicemail.js';

/** @typedef {import('./api.js').LotEvent} LotEvent */
/** @typedef {import('./api.js').LotSnapshot} LotSnapshot */

/** @param {LotSnapshot} snapshot */
function onSnapshot(snapshot) {
  state.lot.applySnapshot(snapshot);
  render();
  refreshMe();
  refreshAgents();
  refreshTeamAdmin();
  // A stream resumed with a snapshot may have missed voicemail events.
  voicemailChanged();
}

/**
 * An event that changes no slot: said in the feed, and shown in the Voicemail view if open.
 * @param {LotEvent} event
 */
function onNote(event) {
  noteEvent(event);
  voicemailChanged(event);
}

/** @param {LotEvent} received */
function onEvent(received) {
  const before = state.lot.slot(received.slot);
  if (!state.lot.applyEvent(received)) return;
  const event = withRetriever(received, before);
  noteEvent(event);
  const me = state.me;
  const message = eventMessage(event, me && me.identity, agentName);
  if (message && 'error' in message) showError(message.error);
  else if (message) announce(message.announce);
  if (me && concerns(event, me.identity, currentCall())) refreshMe();
  render();
}

/**
 * The live stream's `agents` event: the Team panel, and the supervisor's list (fetched again).
 * @param {import('./api.js').Agent[]} agents
 */
function onAgents(agents) {
  applyAgents(agents);
  refreshTeamAdmin();
}

function wire() {
  setLiveHandlers({ onSnapshot, onEvent, onNote, onAgents, onSessionEnded: sessionEnded });
  wireInput();
  wireWarnings();
  setInterval(tick, 250);
  NARROW_SCREEN.addEventListener('change', () => render());
  window.addEventListener('online', () => {
    if (state.me && state.conn !== 'live') connectEvents(state.lot.seq);
  });
  // A call answered elsewhere (another softphone) shows when the agent comes back to the page.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && state.me) refreshMe();
  });
  boot();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', wire);
else wire();
