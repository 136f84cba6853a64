// @ts-check
// Time-out warnings (ui/warn.js): which parked calls warn whom, and when.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { WARN_MS, untold, warningsAt } from '../ui/warn.js';
import { call, snapshot } from './fixtures.js';

const DEADLINE = Date.parse('2026-11-24T10:05:00Z');
/** @type {Record<string, import('../ui/api.js').AgentStatus>} */
const STATUS = { alice: 'available', bob: 'available', carol: 'offline' };
/** @param {string} id */
const statusOf = (id) => STATUS[id];
/** Slot 1 parked by alice (available: rings back), slot 2 by carol (offline: voicemail). */
const slots = snapshot(3, 1, { 1: call({ id: 'a' }), 2: call({ id: 'c', parkedBy: 'carol' }) }).slots;

describe('warningsAt', () => {
  it('nothing before the last 30 s', () => {
    assert.deepEqual(warningsAt(slots, DEADLINE - WARN_MS - 1, { me: 'alice', free: true, statusOf }), []);
  });
  it('the parker is warned that their call rings them back', () => {
    const [w, ...rest] = warningsAt(slots, DEADLINE - WARN_MS, { me: 'alice', free: true, statusOf });
    assert.deepEqual([w.kind, w.outcome, w.slot, w.leftMs], ['mine', 'ringback', 1, WARN_MS]);
    // Carol's voicemail-bound call is offered to alice too.
    assert.deepEqual(rest.map((x) => [x.kind, x.slot]), [['take', 2]]);
  });
  it('another agent is offered only the calls headed for voicemail, and only when free', () => {
    const free = warningsAt(slots, DEADLINE - 5000, { me: 'bob', free: true, statusOf });
    assert.deepEqual(free.map((w) => [w.kind, w.outcome, w.slot, w.leftMs]), [['take', 'voicemail', 2, 5000]]);
    assert.deepEqual(warningsAt(slots, DEADLINE - 5000, { me: 'bob', free: false, statusOf }), []);
  });
  it('a parker who is not available is told the call goes to voicemail', () => {
    const [w] = warningsAt(slots, DEADLINE - 1000, { me: 'carol', free: false, statusOf });
    assert.deepEqual([w.kind, w.outcome, w.slot], ['mine', 'voicemail', 2]);
  });
  it('an organisation that sends every time-out to voicemail offers every call', () => {
    const ws = warningsAt(slots, DEADLINE - 1000, { me: 'bob', free: true, statusOf, voicemailAlways: true });
    assert.deepEqual(ws.map((w) => w.slot), [1, 2]);
  });
  it('a past deadline shows 0 left until the service acts; a call being retrieved does not warn', () => {
    const [w] = warningsAt(slots, DEADLINE + 800, { me: 'alice', free: false, statusOf });
    assert.equal(w.leftMs, 0);
    const busy = snapshot(1, 1, { 1: call({ state: 'retrieving', retrievingAgent: 'bob' }) }).slots;
    assert.deepEqual(warningsAt(busy, DEADLINE - 1000, { me: 'alice', free: true, statusOf }), []);
  });
  it('soonest first', () => {
    const two = snapshot(2, 1, {
      1: call({ id: 'late', deadline: '2026-11-24T10:05:20Z' }),
      2: call({ id: 'soon', deadline: '2026-11-24T10:05:00Z' }),
    }).slots;
    assert.deepEqual(warningsAt(two, DEADLINE - 1000, { me: 'alice', free: true, statusOf }).map((w) => w.call.id), ['soon', 'late']);
  });
});

describe('untold', () => {
  it('tells each parked call once', () => {
    const told = new Set();
    const ws = warningsAt(slots, DEADLINE - 1000, { me: 'alice', free: true, statusOf });
    assert.equal(untold(ws, told).length, 2);
    assert.equal(untold(ws, told).length, 0);
  });
});
