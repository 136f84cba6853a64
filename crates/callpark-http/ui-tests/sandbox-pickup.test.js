// @ts-check
// The sandbox's "When the sandbox rings me:" choice (ui/sandbox-pickup-format.js): the
// service's answer read, the refusals in words, and the order of the saves.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  PICKUPS, choosePickup, isPickup, loadedPickup, pickupOf, pickupProblem, pickupSaved, pickupSettled,
} from '../ui/sandbox-pickup-format.js';

/** @typedef {import('../ui/sandbox-pickup-format.js').Pickup} Pickup */
/** @typedef {import('../ui/sandbox-pickup-format.js').PickupModel} PickupModel */

describe('pickupOf', () => {
  /** @type {[string, unknown, Pickup | null][]} */
  const cases = [
    ['answer', { pickup: 'answer' }, 'answer'],
    ['decline', { pickup: 'decline' }, 'decline'],
    ['let it ring', { pickup: 'let_ring' }, 'let_ring'],
    ['an unknown choice', { pickup: 'ignore' }, null],
    ['the name in another case', { pickup: 'Answer' }, null],
    ['no choice', {}, null],
    ['a choice that is no string', { pickup: 1 }, null],
    ['null (no body)', null, null],
    ['a bare string', 'answer', null],
  ];
  for (const [name, data, expected] of cases) {
    it(`reads ${name}`, () => assert.equal(pickupOf(data), expected));
  }
  it('offers the three choices, answering first', () => {
    assert.deepEqual(PICKUPS, ['answer', 'decline', 'let_ring']);
    assert.ok(PICKUPS.every(isPickup));
    assert.equal(isPickup('let ring'), false);
  });
});

describe('pickupSaved', () => {
  /** @type {[Pickup, string][]} */
  const cases = [
    ['answer', 'Saved: your simulated browser answers at once.'],
    ['decline', 'Saved: your simulated browser declines.'],
    ['let_ring', 'Saved: your simulated browser rings until the ring time is up.'],
  ];
  for (const [pickup, expected] of cases) {
    it(`says what ${pickup} does`, () => assert.equal(pickupSaved(pickup), expected));
  }
});

describe('pickupProblem', () => {
  /** @type {[string, { status: number, code: string, message: string }, 'load' | 'save', string][]} */
  const cases = [
    ['a refusal, in the service\'s words',
      { status: 400, code: 'invalid_request', message: 'pickup must be "answer", "decline" or "let_ring", not "x"' }, 'save',
      'Could not save your choice, so the previous one stays. Pickup must be "answer", "decline" or "let_ring", not "x".'],
    ['no service', { status: 0, code: 'network', message: 'The service cannot be reached.' }, 'save',
      'Could not save your choice, so the previous one stays: the service cannot be reached. Check your connection and try again.'],
    ['real Twilio', { status: 404, code: 'sandbox_disabled', message: 'this service runs real Twilio' }, 'load',
      'Could not read what your simulated browser does when it rings: this service runs real Twilio, not the sandbox.'],
    ['a failed load', { status: 500, code: 'internal', message: 'internal error.' }, 'load',
      'Could not read what your simulated browser does when it rings. Internal error.'],
    ['a refusal without a message', { status: 502, code: 'http_502', message: '' }, 'save',
      'Could not save your choice, so the previous one stays.'],
  ];
  for (const [name, error, doing, expected] of cases) {
    it(`says ${name}`, () => assert.equal(pickupProblem(error, doing), expected));
  }
});

describe('the saves, one at a time', () => {
  /** @type {PickupModel} */
  const answering = loadedPickup('answer');

  it('starts from the service\'s choice, or none when it is unknown', () => {
    assert.deepEqual(answering, { saved: 'answer', chosen: 'answer', sending: null });
    assert.deepEqual(loadedPickup(null), { saved: null, chosen: null, sending: null });
  });

  /** @type {[string, PickupModel, Pickup, PickupModel, Pickup | null][]} */
  const choices = [
    ['a new choice is sent at once', answering, 'decline',
      { saved: 'answer', chosen: 'decline', sending: 'decline' }, 'decline'],
    ['the choice the service has already is not sent', answering, 'answer', answering, null],
    ['a choice while none is known is sent', loadedPickup(null), 'let_ring',
      { saved: null, chosen: 'let_ring', sending: 'let_ring' }, 'let_ring'],
    ['a choice while one is on its way waits for it', { saved: 'answer', chosen: 'decline', sending: 'decline' }, 'let_ring',
      { saved: 'answer', chosen: 'let_ring', sending: 'decline' }, null],
    ['going back to the saved choice while one is on its way waits too', { saved: 'answer', chosen: 'decline', sending: 'decline' }, 'answer',
      { saved: 'answer', chosen: 'answer', sending: 'decline' }, null],
  ];
  for (const [name, model, pickup, expected, send] of choices) {
    it(name, () => assert.deepEqual(choosePickup(model, pickup), { model: expected, send }));
  }

  /** @type {[string, PickupModel, Pickup | null, PickupModel, Pickup | null][]} */
  const settled = [
    ['saved: the radios stay', { saved: 'answer', chosen: 'decline', sending: 'decline' }, 'decline',
      { saved: 'decline', chosen: 'decline', sending: null }, null],
    ['saved, with a later choice: that one is sent next', { saved: 'answer', chosen: 'let_ring', sending: 'decline' }, 'decline',
      { saved: 'decline', chosen: 'let_ring', sending: 'let_ring' }, 'let_ring'],
    ['saved, with a choice back to what was saved before: it is sent too', { saved: 'answer', chosen: 'answer', sending: 'decline' }, 'decline',
      { saved: 'decline', chosen: 'answer', sending: 'answer' }, 'answer'],
    ['refused: the radios go back to the service\'s choice', { saved: 'answer', chosen: 'decline', sending: 'decline' }, null,
      { saved: 'answer', chosen: 'answer', sending: null }, null],
    ['refused, with a later choice: it is dropped too', { saved: 'answer', chosen: 'let_ring', sending: 'decline' }, null,
      { saved: 'answer', chosen: 'answer', sending: null }, null],
    ['refused while none was known: none is checked', { saved: null, chosen: 'decline', sending: 'decline' }, null,
      { saved: null, chosen: null, sending: null }, null],
  ];
  for (const [name, model, pickup, expected, send] of settled) {
    it(name, () => assert.deepEqual(pickupSettled(model, pickup), { model: expected, send }));
  }

  it('ends on the latest choice, whatever was chosen while the first was on its way', () => {
    let step = choosePickup(answering, 'decline');
    step = choosePickup(step.model, 'let_ring');
    step = choosePickup(step.model, 'decline');
    assert.equal(step.send, null);
    step = pickupSettled(step.model, 'decline');
    assert.deepEqual(step, { model: { saved: 'decline', chosen: 'decline', sending: null }, send: null });
  });
});
