// @ts-check
// Signing in (a sign-in link's token, the form, or the session cookie of an earlier sign-in),
// starting the page for the agent, and signing out.

import { park } from './actions.js';
import { api, apiError } from './api.js';
import { $, announce, clearError, showError } from './dom.js';
import { connectEvents, stopLive } from './live.js';
import { ParkingLot } from './lot.js';
import { startPhone } from './phone.js';
import { renderCall, renderHeader } from './render.js';
import { syncSandboxPickup } from './sandbox-pickup.js';
import { refreshAgents, refreshMe, showSignIn } from './session.js';
import { currentCall, state } from './state.js';
import { syncTeamAdmin } from './team-admin.js';
import { tokenFromFragment } from './token.js';
import { syncViews } from './views.js';

/** @typedef {import('./api.js').Me} Me */

/** The token of a sign-in link (`/#token=…`), taken out of the address bar. */
function takeTokenFromFragment() {
  const token = tokenFromFragment(window.location.hash);
  if (!token) return null;
  // The token must not linger in the address bar, history or a shared screenshot.
  history.replaceState(null, '', window.location.pathname + window.location.search);
  return token;
}

/** Signs in with the link's token, else the session cookie; else shows the form. */
export async function boot() {
  const token = takeTokenFromFragment();
  try {
    // With a token: the bearer header. Without: the session cookie of an earlier sign-in.
    await api('POST', '/api/session', { token: token || undefined });
    await start(await api('GET', '/api/me'));
  } catch (caught) {
    const error = apiError(caught);
    if (error.status === 401) {
      showSignIn(token ? 'That sign-in link is not valid (any more). Paste a current agent token.' : null);
    } else {
      showSignIn(error.message);
    }
  }
}

/**
 * The sign-in form: a pasted agent token (read out of a pasted sign-in link by input.js).
 * @param {string} token
 */
export async function signInWith(token) {
  const errorEl = $('signin-error');
  const tokenInput = /** @type {HTMLInputElement} */ ($('token-input'));
  errorEl.hidden = true;
  try {
    await api('POST', '/api/session', { token });
    tokenInput.value = '';
    await start(await api('GET', '/api/me'));
  } catch (caught) {
    const error = apiError(caught);
    errorEl.textContent = error.status === 401 ? 'That token was not accepted. Check it and try again.' : error.message;
    errorEl.hidden = false;
    tokenInput.setAttribute('aria-invalid', 'true');
    tokenInput.focus();
  }
}

/**
 * Shows the signed-in agent's lot, live, and their phone when the service issues Voice tokens.
 * @param {Me} me
 */
function start(me) {
  state.me = me;
  clearError();
  $('signin').hidden = true;
  $('workspace').hidden = false;
  $('session').hidden = false;
  $('sandbox-panel').hidden = !me.sandbox;
  syncSandboxPickup();
  document.title = `Parking lot · ${me.org} · callpark`;
  renderHeader();
  renderCall();
  syncTeamAdmin();
  syncViews();
  refreshAgents(0);
  connectEvents(null);
  if (me.voice) startPhone();
}

/**
 * Signs out, unless the agent is on a call: then the page asks first, and offers to park the
 * call (signing out never drops a caller).
 */
export async function askSignOut() {
  await refreshMe();
  if (!currentCall()) {
    await signOut();
    return;
  }
  const dialog = /** @type {HTMLDialogElement} */ ($('signout-dialog'));
  if (!dialog.open) dialog.showModal();
}

/** Wires the sign-out question's buttons, once. */
export function wireSignOutDialog() {
  const dialog = /** @type {HTMLDialogElement} */ ($('signout-dialog'));
  $('signout-cancel').addEventListener('click', () => dialog.close());
  $('signout-park').addEventListener('click', async () => {
    dialog.close();
    const free = (state.lot.slots || []).find((s) => state.lot.isFree(s));
    if (!free) {
      showError('The lot is full: your call stays with you, and you stay signed in.');
      return;
    }
    if (await park(free.slot)) await signOut();
  });
}

export async function signOut() {
  const voice = state.voice;
  stopLive();
  try {
    await api('DELETE', '/api/session');
  } catch {
    // Signed out locally either way; the cookie is HTTP-only and the server clears it.
  }
  if (voice) voice.destroy();
  Object.assign(state, {
    me: null, lot: new ParkingLot(), parking: null, choosing: false, endedCalls: new Set(),
    voice: null, voiceStatus: null, incoming: null, voiceCall: null, callClock: null, muted: null, refusal: null,
  });
  $('grid').replaceChildren();
  $('call-area').replaceChildren();
  delete $('call-area').dataset.signature;
  showSignIn(null);
  announce('Signed out.');
}
