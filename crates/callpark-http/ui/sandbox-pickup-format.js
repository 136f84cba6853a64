// @ts-check
// The sandbox's "When the sandbox rings me:" choice, without the DOM: the choices and their
// words, what the service's answer says, the service's refusals in words, and the order of the
// saves (one request at a time, the latest choice last). node's test runner imports it
// (crates/callpark-http/ui-tests/).

import { sentence } from './format.js';

/**
 * What the agent's simulated browser does when a retrieve or a ring-back rings it alone
 * (`GET`/`POST /api/sandbox/pickup`).
 * @typedef {'answer' | 'decline' | 'let_ring'} Pickup
 */

/** @type {readonly Pickup[]} in the order the page offers them */
export const PICKUPS = ['answer', 'decline', 'let_ring'];

/** @type {Record<Pickup, string>} what "Saved." goes on to say of each choice */
const SAID = {
  answer: 'your simulated browser answers at once.',
  decline: 'your simulated browser declines.',
  let_ring: 'your simulated browser rings until the ring time is up.',
};

/**
 * Whether a value is one of the choices.
 * @param {unknown} value
 * @returns {value is Pickup}
 */
export const isPickup = (value) => typeof value === 'string' && /** @type {readonly string[]} */ (PICKUPS).includes(value);

/**
 * The choice the service's answer names (`{"pickup": "decline"}`), or null for anything else.
 * @param {unknown} data
 * @returns {Pickup | null}
 */
export function pickupOf(data) {
  const value = data && typeof data === 'object' ? /** @type {{ pickup?: unknown }} */ (data).pickup : undefined;
  return isPickup(value) ? value : null;
}

/**
 * The status line once the service saved a choice.
 * @param {Pickup} pickup
 */
export const pickupSaved = (pickup) => `Saved: ${SAID[pickup]}`;

/**
 * A failed request in words: the service's own message as a sentence.
 * @param {{ status: number, code: string, message: string }} error the ApiError
 * @param {'load' | 'save'} doing
 */
export function pickupProblem(error, doing) {
  const what = doing === 'load'
    ? 'Could not read what your simulated browser does when it rings'
    : 'Could not save your choice, so the previous one stays';
  if (error.status === 0) return `${what}: the service cannot be reached. Check your connection and try again.`;
  if (error.code === 'sandbox_disabled') return `${what}: this service runs real Twilio, not the sandbox.`;
  return `${what}. ${sentence(error.message)}`.trim();
}

/**
 * The choice as the page holds it: what the service has (`saved`, null until known), what the
 * agent chose last (`chosen`, what the radios show), and what is being sent (`sending`).
 * @typedef {{ saved: Pickup | null, chosen: Pickup | null, sending: Pickup | null }} PickupModel
 */

/**
 * The model once the service said its choice (the page's load).
 * @param {Pickup | null} saved
 * @returns {PickupModel}
 */
export const loadedPickup = (saved) => ({ saved, chosen: saved, sending: null });

/**
 * The agent chose `pickup`: what to send now, if anything. One request at a time: a choice
 * made while one is on its way is sent after it (see `pickupSettled`), so the service ends
 * with the latest whatever order the answers would have come in.
 * @param {PickupModel} model
 * @param {Pickup} pickup
 * @returns {{ model: PickupModel, send: Pickup | null }}
 */
export function choosePickup(model, pickup) {
  if (model.sending) return { model: { ...model, chosen: pickup }, send: null };
  if (pickup === model.saved) return { model: { ...model, chosen: pickup }, send: null };
  return { model: { ...model, chosen: pickup, sending: pickup }, send: pickup };
}

/**
 * The request on its way settled: saved (the service's answer, `pickup`), or refused or lost
 * (`pickup` null). A refusal puts the radios back on the choice the service has, and drops a
 * choice made meanwhile (the error says what went wrong; the agent chooses again).
 * @param {PickupModel} model
 * @param {Pickup | null} pickup what the service saved, or null when it did not
 * @returns {{ model: PickupModel, send: Pickup | null }}
 */
export function pickupSettled(model, pickup) {
  if (!pickup) return { model: { saved: model.saved, chosen: model.saved, sending: null }, send: null };
  const next = model.chosen && model.chosen !== pickup ? model.chosen : null;
  return { model: { saved: pickup, chosen: next || pickup, sending: next }, send: next };
}
