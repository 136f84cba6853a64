// @ts-check
// The Sandbox panel's "When the sandbox rings me:" radios: what the agent's simulated browser
// does when a retrieve or a ring-back rings it alone (answer, decline, let it ring), loaded
// from GET /api/sandbox/pickup as the page starts and saved with POST on each change. A save
// the service refuses says why and puts the radios back on the choice it has. Sandbox only.

import { api, apiError } from './api.js';
import { $ } from './dom.js';
import {
  choosePickup, isPickup, loadedPickup, pickupOf, pickupProblem, pickupSaved, pickupSettled,
} from './sandbox-pickup-format.js';
import { state } from './state.js';

/** @typedef {import('./sandbox-pickup-format.js').Pickup} Pickup */
/** @typedef {import('./sandbox-pickup-format.js').PickupModel} PickupModel */

const PATH = '/api/sandbox/pickup';
const HELP = 'pickup-help';
const ERROR = 'pickup-error';

/** @type {PickupModel} */
let model = loadedPickup(null);
/** Counts sign-ins: an answer for an earlier session (or agent) is dropped. */
let generation = 0;
let wired = false;

const group = () => /** @type {HTMLFieldSetElement} */ ($('pickup'));
const radios = () => /** @type {HTMLInputElement[]} */ ([...group().querySelectorAll('input[name="pickup"]')]);

/** Loads the agent's choice when the service runs the sandbox (as the page starts). */
export function syncSandboxPickup() {
  wire();
  generation += 1;
  model = loadedPickup(null);
  group().disabled = true;
  showModel();
  showProblem(null);
  status('');
  if (state.me && state.me.sandbox) loadPickup();
}

/** GET /api/sandbox/pickup: the radio checked, then the radios enabled (even if it failed). */
async function loadPickup() {
  const mine = generation;
  status('Loading…');
  try {
    const data = await api('GET', PATH);
    if (mine !== generation) return;
    model = loadedPickup(pickupOf(data));
    status('');
  } catch (caught) {
    if (mine !== generation) return;
    status('');
    showProblem(pickupProblem(apiError(caught), 'load'));
  }
  group().disabled = false;
  showModel();
}

/** @param {Event} event a radio's change (a click, Space, or an arrow key in the group) */
function onChange(event) {
  const input = /** @type {HTMLInputElement} */ (event.target);
  if (input.name !== 'pickup' || !isPickup(input.value)) return;
  showProblem(null);
  const step = choosePickup(model, input.value);
  model = step.model;
  showModel();
  if (step.send) save(step.send);
}

/**
 * POST /api/sandbox/pickup; then the choice made meanwhile, if any.
 * @param {Pickup} pickup
 */
async function save(pickup) {
  const mine = generation;
  status('Saving…');
  /** @type {Pickup | null} */
  let saved = null;
  /** @type {import('./api.js').ApiError | null} */
  let error = null;
  try {
    saved = pickupOf(await api('POST', PATH, { body: { pickup } })) || pickup;
  } catch (caught) {
    error = apiError(caught);
  }
  if (mine !== generation) return;
  const step = pickupSettled(model, saved);
  model = step.model;
  showModel();
  if (step.send) {
    save(step.send);
  } else if (saved) {
    status(pickupSaved(saved));
  } else if (error) {
    status('');
    showProblem(pickupProblem(error, 'save'));
  }
}

/** The radios as the model says; the focus, if it was on a radio, on the checked one. */
function showModel() {
  const focused = radios().some((r) => r === document.activeElement);
  for (const radio of radios()) radio.checked = radio.value === model.chosen;
  const checked = radios().find((r) => r.checked);
  if (focused && checked && document.activeElement !== checked) checked.focus();
}

/**
 * The status beside the radios: "Loading…", "Saving…", "Saved: …", or nothing.
 * @param {string} text
 */
function status(text) {
  $('pickup-status').textContent = text;
}

/**
 * The group's problem, in the alert under it and in what describes the group; null clears it.
 * @param {string | null} message
 */
function showProblem(message) {
  const el = $(ERROR);
  el.hidden = !message;
  el.textContent = message || '';
  group().setAttribute('aria-describedby', message ? `${HELP} ${ERROR}` : HELP);
}

/** Listens to the radios, once. */
function wire() {
  if (wired) return;
  wired = true;
  group().addEventListener('change', onChange);
}
