// @ts-check
// What the agent does to the lot: park and retrieve, shown at once and rolled back with the
// service's reason when it refuses; and, in the sandbox, simulated callers.

import { api, apiError, serverNow } from './api.js';
import { announce, clearError, focusCallCard, showError, $ } from './dom.js';
import { callerTitle, formatNumber, sentence } from './format.js';
import { render, renderCall } from './render.js';
import { refreshMe } from './session.js';
import { currentCall, state } from './state.js';

/** @typedef {import('./api.js').Parked} Parked */
/** @typedef {import('./api.js').SimulatedCall} SimulatedCall */
/** @typedef {import('./lot.js').Pending} Pending */

/** How long an accepted park/retrieve may show optimistically before the live feed confirms it. */
const PENDING_GRACE_MS = 10_000;

/**
 * Withdraws an accepted operation the live feed has not confirmed in time.
 * @param {number} slot
 * @param {Pending} op
 */
function expirePending(slot, op) {
  setTimeout(() => {
    if (state.lot.withdraw(slot, op)) render();
  }, PENDING_GRACE_MS);
}

/** How long a taken slot says so after the agent tried to park in it. */
const REFUSAL_MS = 2500;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let refusalTimer;

/**
 * The agent tried to park in a taken slot (dropped the call on it, typed its number): the slot
 * says so for a moment, over its own content so that nothing moves, and the live region too.
 * @param {number} slot
 * @param {boolean} [say] whether to announce it (not when the error banner says it already)
 */
export function slotTaken(slot, say = true) {
  clearTimeout(refusalTimer);
  state.refusal = { slot, id: (state.refusal ? state.refusal.id : 0) + 1 };
  render();
  if (say) announce(`Slot ${slot} is taken. Choose a free slot.`);
  refusalTimer = setTimeout(() => {
    state.refusal = null;
    render();
  }, REFUSAL_MS);
}

/**
 * Parks the current call in a free slot.
 * @param {number} slot
 * @returns {Promise<boolean>} whether the service parked it
 */
export async function park(slot) {
  const call = currentCall();
  if (!call || state.parking) return false;
  const s = state.lot.slot(slot);
  if (!s) {
    showError(`There is no slot ${slot} in this lot.`);
    return false;
  }
  if (!state.lot.isFree(s)) {
    slotTaken(slot);
    return false;
  }
  state.choosing = false;
  state.digits = '';
  clearError();
  const op = state.lot.beginPark(slot, call, new Date(serverNow()).toISOString());
  state.parking = { slot, call };
  render();
  announce(`Parking ${callerTitle(call)} in slot ${slot}…`);
  try {
    /** @type {Parked} */
    const parked = await api('POST', '/api/park', { body: { callSid: call.callSid, slot } });
    state.lot.parkAccepted(op, parked);
    expirePending(slot, op);
    state.parking = null;
    if (state.voiceCall) state.voiceCall.parked = true;
    else if (state.me) state.me.currentCall = null;
    announce(`Parked ${callerTitle(call)} in slot ${parked.slot}.`);
    render();
    refreshMe();
    return true;
  } catch (caught) {
    const error = apiError(caught);
    state.lot.withdraw(slot, op);
    state.parking = null;
    if (error.code === 'caller_gone' || error.code === 'call_not_found') state.endedCalls.add(call.callSid);
    render();
    if (error.code === 'slot_occupied') slotTaken(slot, false);
    showError(`Could not park the call in slot ${slot}. ${sentence(error.message)}`);
    focusCallCard();
    refreshMe();
    return false;
  }
}

/**
 * Parks the current call in the first free slot, then retrieves the call parked in `slot`:
 * the agent swaps callers without either of them being dropped.
 * @param {number} slot
 */
export async function parkMineAndRetrieve(slot) {
  clearError();
  await refreshMe();
  if (currentCall()) {
    const free = (state.lot.slots || []).find((s) => s.slot !== slot && state.lot.isFree(s));
    if (!free) {
      showError('The lot is full: there is no free slot to park your call in, so it stays with you.');
      return;
    }
    if (!(await park(free.slot))) return;
  }
  await retrieve(slot);
}

/**
 * Retrieves the call parked in a slot: the service rings this agent.
 * @param {number} slot
 */
export async function retrieve(slot) {
  const op = state.lot.beginRetrieve(slot);
  const s = state.lot.slot(slot);
  if (!op || !s || !s.call) return;
  clearError();
  render();
  const who = callerTitle(s.call);
  announce(`Retrieving ${who} from slot ${slot}…`);
  try {
    await api('POST', `/api/lot/${slot}/retrieve`);
    state.lot.settle();
    expirePending(slot, op);
    announce(`Connecting you to ${who}.`);
    render();
    refreshMe();
  } catch (caught) {
    const error = apiError(caught);
    state.lot.withdraw(slot, op);
    render();
    if (error.code === 'agent_busy') {
      // The service knows of a call this page did not show yet: offer the swap.
      showError(`You are on a call, so slot ${slot} stays parked.`,
        { label: 'Park my current call and retrieve', action: 'park-and-retrieve', slot });
      refreshMe();
      return;
    }
    showError(`Could not retrieve the call in slot ${slot}. ${sentence(error.message)}`);
  }
}

/** Sandbox: a simulated caller dials the organisation and this agent answers. */
export async function simulateCall() {
  const button = /** @type {HTMLButtonElement} */ ($('simulate-call'));
  button.dataset.busy = 'true';
  button.disabled = true;
  clearError();
  try {
    /** @type {SimulatedCall} */
    const created = await api('POST', '/api/sandbox/calls', { body: {} });
    await refreshMe();
    announce(`Call from ${formatNumber(created.from)} answered. Drag it onto a free slot or press Park.`);
    focusCallCard();
  } catch (caught) {
    showError(`Could not simulate a call. ${sentence(apiError(caught).message)}`);
  } finally {
    button.dataset.busy = 'false';
    renderCall();
  }
}

/**
 * Sandbox: the caller hangs up, on the current call or parked in a slot.
 * @param {string} pstn the caller's leg
 * @param {number | null} slot
 */
export async function hangUp(pstn, slot) {
  clearError();
  try {
    await api('POST', `/api/sandbox/calls/${encodeURIComponent(pstn)}/hangup`);
    const mine = state.me && state.me.currentCall;
    if (mine && mine.pstnCallSid === pstn) state.endedCalls.add(mine.callSid);
    if (!slot) announce('The caller hung up.');
    render();
    await refreshMe();
  } catch (caught) {
    showError(`Could not hang up. ${sentence(apiError(caught).message)}`);
  }
}
