// @ts-check
// The signed-in agent: who they are and their current call (GET /api/me), their team
// (GET /api/agents), and the sign-in form when there is no session.

import { api, apiError } from './api.js';
import { $ } from './dom.js';
import { stopLive } from './live.js';
import { render, renderCall, renderHeader, renderTeam } from './render.js';
import { state } from './state.js';
import { hideTeamAdmin, syncTeamAdmin } from './team-admin.js';
import { resetViews, syncViews } from './views.js';

/** @typedef {import('./api.js').Agent} Agent */
/** @typedef {import('./api.js').Me} Me */

/**
 * Shows the sign-in form instead of the lot, with a message or none.
 * @param {string | null} message
 */
export function showSignIn(message) {
  stopLive();
  $('workspace').hidden = true;
  $('session').hidden = true;
  $('org-name').hidden = true;
  hideTeamAdmin();
  resetViews();
  $('signin').hidden = false;
  const errorEl = $('signin-error');
  errorEl.hidden = !message;
  errorEl.textContent = message || '';
  $('token-input').focus();
}

/** The service no longer knows this session (it expired, or the agent signed out elsewhere). */
export function sessionEnded() {
  if (state.voice) state.voice.destroy();
  state.voice = null;
  state.me = null;
  showSignIn('Your session ended. Sign in again.');
}

/** @type {Promise<void> | null} */
let meInFlight = null;
let meAgain = false;

/**
 * GET /api/me, coalesced: a request asked for while one is running runs once after it.
 * @returns {Promise<void>}
 */
export function refreshMe() {
  if (meInFlight) {
    meAgain = true;
    return meInFlight;
  }
  meInFlight = (async () => {
    do {
      meAgain = false;
      try {
        /** @type {Me} */
        const me = await api('GET', '/api/me');
        if (!state.me) return;
        state.me = me;
      } catch (error) {
        if (apiError(error).status === 401 && state.me) sessionEnded();
        return;
      }
    } while (meAgain);
    renderHeader();
    renderCall();
    render();
    syncTeamAdmin();
    syncViews();
  })().finally(() => {
    meInFlight = null;
  });
  return meInFlight;
}

/** @type {ReturnType<typeof setTimeout> | undefined} */
let agentsTimer;

/**
 * The organisation's agents as they are now (`GET /api/agents`, or the live stream's `agents`
 * event): the Team panel, and the agent's own status when another tab or a call changed it.
 * @param {Agent[]} agents
 */
export function applyAgents(agents) {
  state.agents = new Map(agents.map((a) => [a.identity, a]));
  const mine = state.me && state.agents.get(state.me.identity);
  if (state.me && mine && mine.status !== state.me.status) refreshMe();
  renderTeam();
  render();
}

/**
 * GET /api/agents, at most once per burst of events.
 * @param {number} [delayMs]
 */
export function refreshAgents(delayMs = 150) {
  clearTimeout(agentsTimer);
  agentsTimer = setTimeout(async () => {
    try {
      applyAgents(await api('GET', '/api/agents'));
    } catch {
      // The team list is a convenience; the lot does not depend on it.
    }
  }, delayMs);
}
