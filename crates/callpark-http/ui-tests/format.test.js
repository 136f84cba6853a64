// @ts-check
// What the page says (ui/format.js): numbers, durations, and the words for each event.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { duration, eventMessage, formatNumber, sentence } from '../ui/format.js';
import { call, event } from './fixtures.js';

describe('formatNumber', () => {
  const cases = [
    ['+14155550123', '+1 415-555-0123'],
    ['+442079460000', '+442079460000'],
    [null, 'Unknown caller'],
    ['', 'Unknown caller'],
  ];
  for (const [number, expected] of cases) {
    it(`${number} → ${expected}`, () => assert.equal(formatNumber(number), expected));
  }
});

describe('duration', () => {
  const cases = [
    [0, '0:00'], [999, '0:00'], [61_000, '1:01'], [3_599_000, '59:59'], [3_600_000, '1:00:00'],
    [3_725_000, '1:02:05'], [-5_000, '0:00'],
  ];
  for (const [ms, expected] of cases) {
    it(`${ms} ms → ${expected}`, () => assert.equal(duration(Number(ms)), expected));
  }
});

describe('sentence', () => {
  const cases = [['slot 4 is occupied', 'Slot 4 is occupied.'], ['Gone!', 'Gone!'], ['  ', ''], [null, '']];
  for (const [text, expected] of cases) {
    it(`${JSON.stringify(text)} → ${JSON.stringify(expected)}`, () => assert.equal(sentence(text), expected));
  }
});

describe('eventMessage', () => {
  /** @param {string | null | undefined} identity */
  const nameOf = (identity) => (identity === 'carol' ? 'you' : String(identity));
  const dana = { callerName: 'Dana' };
  /** @type {Array<[string, Partial<import('../ui/api.js').Call>, object | null]>} */
  const cases = [
    ['parked', { parkedBy: 'bob' }, { announce: 'Slot 2: Dana parked by bob.' }],
    ['parked', { parkedBy: 'carol' }, null],
    ['updated', {}, null],
    ['retrieving', { retrievingAgent: 'bob' }, { announce: 'Slot 2: bob is retrieving Dana.' }],
    ['retrieving', { retrievingAgent: 'carol' }, null],
    ['retrieving', { retrievingAgent: null }, null],
    ['retrieved', { retrievingAgent: 'bob' }, { announce: 'Slot 2 is free: bob took Dana.' }],
    ['returned', { retrievingAgent: 'bob' }, { announce: 'Slot 2: Dana is back on hold; bob did not answer.' }],
    ['returned', { retrievingAgent: null }, { announce: 'Slot 2: Dana is back on hold; nobody answered.' }],
    ['abandoned', {}, { announce: 'Slot 2 is free: Dana hung up.' }],
    ['timed_out', {}, { announce: 'Slot 2: hold time is up for Dana.' }],
    ['voicemail', {}, { announce: 'Slot 2 is free: Dana went to voicemail.' }],
    ['failed', { parkedBy: 'bob' }, { announce: 'Slot 2: parking Dana failed.' }],
    ['failed', { parkedBy: 'carol' }, { error: 'Parking Dana in slot 2 failed: the caller could not be moved to the lot.' }],
    ['voicemail_recorded', {}, null],
  ];
  for (const [kind, fields, expected] of cases) {
    it(`${kind} ${JSON.stringify(fields)}`, () => {
      const e = event(String(kind), 11, 2, 'free', call({ ...dana, ...fields }));
      assert.deepEqual(eventMessage(e, 'carol', nameOf), expected);
    });
  }

  it('says nothing is by "me" when nobody is signed in', () => {
    const e = event('parked', 11, 2, 'parking', call({ ...dana, parkedBy: 'carol' }));
    assert.deepEqual(eventMessage(e, null, nameOf), { announce: 'Slot 2: Dana parked by you.' });
  });
});
