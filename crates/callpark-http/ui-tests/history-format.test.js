// @ts-check
// What the History view asks for and shows (ui/history-format.js).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { PAGE_SIZE, csvPath, historyPath, historyRow, historyStatus, parkedAtText, readOutcome } from '../ui/history-format.js';

/** @typedef {import('../ui/api.js').HistoryCall} HistoryCall */

/**
 * A call of the history with the given fields.
 * @param {Partial<HistoryCall>} [fields]
 * @returns {HistoryCall}
 */
const call = (fields = {}) => ({
  id: 'c1', slot: 2, callerNumber: '+14155550123', callerName: null, parkedBy: 'alice',
  parkedAt: '2026-11-24T10:00:05Z', retrievedBy: 'bob', endedAt: '2026-11-24T10:01:10Z',
  outcome: 'retrieved', secondsOnHold: 65, ringbacks: 0, voicemail: false, ...fields,
});

const names = (/** @type {string} */ identity) => ({ alice: 'Alice', bob: 'Bob' })[identity] || identity;

describe('historyPath and csvPath', () => {
  it('asks for a page, filtered or not, after a cursor or not', () => {
    assert.equal(historyPath(''), `/api/history?limit=${PAGE_SIZE}`);
    assert.equal(historyPath('abandoned'), `/api/history?outcome=abandoned&limit=${PAGE_SIZE}`);
    assert.equal(historyPath('voicemail', 'abc_-1'), `/api/history?outcome=voicemail&limit=${PAGE_SIZE}&cursor=abc_-1`);
  });
  it('links the CSV of the same filter', () => {
    assert.equal(csvPath(''), '/api/history.csv');
    assert.equal(csvPath('retrieved'), '/api/history.csv?outcome=retrieved');
  });
  it('reads the select: an outcome, or every call', () => {
    assert.equal(readOutcome('live'), 'live');
    assert.equal(readOutcome(''), '');
    assert.equal(readOutcome('constructor'), '');
  });
});

describe('historyRow', () => {
  it('says a call cell by cell', () => {
    assert.deepEqual(historyRow(call(), names, 'UTC'), {
      id: 'c1',
      outcome: 'retrieved',
      cells: {
        parkedAt: '24 Nov, 10:00:05', slot: '2', caller: '+1 415-555-0123', callerDetail: null, parkedBy: 'Alice',
        retrievedBy: 'Bob', outcome: 'Retrieved', onHold: '1 m 05 s', ringbacks: '0', voicemail: 'No',
      },
    });
  });
  it('names the caller, with the number under the name', () => {
    const { cells } = historyRow(call({ callerName: 'Ada', outcome: 'voicemail', retrievedBy: null, voicemail: true, ringbacks: 1 }), names, 'UTC');
    assert.deepEqual([cells.caller, cells.callerDetail, cells.retrievedBy, cells.outcome, cells.voicemail, cells.ringbacks],
      ['Ada', '+1 415-555-0123', '—', 'Voicemail', 'Yes', '1']);
  });
  it('says every outcome in words', () => {
    const words = ['live', 'retrieved', 'abandoned', 'voicemail', 'failed']
      .map((outcome) => historyRow(call({ outcome: /** @type {HistoryCall['outcome']} */ (outcome) }), names).cells.outcome);
    assert.deepEqual(words, ['In the lot', 'Retrieved', 'Hung up', 'Voicemail', 'Failed']);
  });
  it('shows the time in the time zone asked for', () => {
    assert.equal(parkedAtText('2026-11-24T23:30:00Z', 'Europe/Paris'), '25 Nov, 00:30:00');
  });
});

describe('historyStatus', () => {
  const cases = [
    [{ shown: 0, more: false, outcome: '' }, 'No calls parked yet.'],
    [{ shown: 0, more: false, outcome: 'failed' }, 'No failed calls.'],
    [{ shown: 20, more: true, outcome: '' }, 'The latest 20 calls: load more for earlier ones.'],
    [{ shown: 21, more: false, outcome: '' }, 'All 21 calls.'],
    [{ shown: 1, more: false, outcome: 'voicemail' }, '1 call that went to voicemail.'],
    [{ shown: 17, more: false, outcome: 'abandoned' }, 'All 17 calls whose callers hung up.'],
    [{ shown: 3, more: false, outcome: 'live' }, 'All 3 calls still in the lot.'],
  ];
  for (const [view, words] of cases) {
    it(String(words), () => assert.equal(historyStatus(/** @type {Parameters<typeof historyStatus>[0]} */ (view)), words));
  }
});
