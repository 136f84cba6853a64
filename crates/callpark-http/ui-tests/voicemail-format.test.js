// @ts-check
// What the Voicemail view asks for and shows (ui/voicemail-format.js).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { PAGE_SIZE } from '../ui/history-format.js';
import {
  VOICEMAIL_EVENTS, audioPath, audioProblem, callsToMerge, handledPath, handledText, lengthText, refreshLimit,
  voicemailRow, voicemailStatus, voicemailsPath,
} from '../ui/voicemail-format.js';

/** @typedef {import('../ui/api.js').HistoryCall} HistoryCall */

/**
 * A call of the history that went to voicemail, with the given fields.
 * @param {Partial<HistoryCall>} [fields]
 * @returns {HistoryCall}
 */
const call = (fields = {}) => ({
  id: 'c1', slot: 3, callerNumber: '+14155550123', callerName: null, parkedBy: 'alice',
  parkedAt: '2026-11-24T10:00:05Z', retrievedBy: null, endedAt: '2026-11-24T10:03:05Z',
  outcome: 'voicemail', secondsOnHold: 180, ringbacks: 0, voicemail: true,
  voicemailHandledBy: null, voicemailHandledAt: null, ...fields,
});

const names = (/** @type {string} */ identity) => ({ alice: 'Alice', sue: 'Sue' })[identity] || identity;
/** Noon on the day of the calls, UTC. */
const NOON = Date.parse('2026-11-24T12:00:00Z');

describe('the paths', () => {
  it('pages the history’s voicemails', () => {
    assert.equal(voicemailsPath(null), `/api/history?outcome=voicemail&limit=${PAGE_SIZE}`);
    assert.equal(voicemailsPath('abc_-1'), `/api/history?outcome=voicemail&limit=${PAGE_SIZE}&cursor=abc_-1`);
    assert.equal(voicemailsPath(null, 45), '/api/history?outcome=voicemail&limit=45');
  });
  it('asks a refresh for those shown and a page more, within the service’s limit', () => {
    assert.equal(refreshLimit(0), PAGE_SIZE);
    assert.equal(refreshLimit(40), 40 + PAGE_SIZE);
    assert.equal(refreshLimit(495), 500);
    assert.equal(voicemailsPath(null, 900), '/api/history?outcome=voicemail&limit=500');
  });
  it('names the message’s audio and its handled state by the call’s id', () => {
    assert.equal(audioPath('ca1db097-e058'), '/api/voicemails/ca1db097-e058/audio');
    assert.equal(handledPath('ca1db097-e058'), '/api/voicemails/ca1db097-e058/handled');
    assert.equal(audioPath('a/b?c'), '/api/voicemails/a%2Fb%3Fc/audio');
  });
});

describe('lengthText', () => {
  const cases = [
    [4, '0:04'], [3.6, '0:04'], [0.3, '0:01'], [65.2, '1:05'], [3725, '1:02:05'],
    [null, '—'], [undefined, '—'], [NaN, '—'], [Infinity, '—'], [0, '—'],
  ];
  for (const [seconds, words] of cases) {
    it(`${seconds} s is ${words}`, () => assert.equal(lengthText(/** @type {number | null | undefined} */ (seconds)), words));
  }
});

describe('handledText', () => {
  it('is null while nobody handled the voicemail', () => {
    assert.equal(handledText(call(), names, NOON, 'UTC'), null);
  });
  it('says who and at what time, today', () => {
    const handled = call({ voicemailHandledBy: 'sue', voicemailHandledAt: '2026-11-24T11:05:09Z' });
    assert.equal(handledText(handled, names, NOON, 'UTC'), 'Handled by Sue at 11:05');
  });
  it('says the day too when it was not today, in the time zone asked for', () => {
    const handled = call({ voicemailHandledBy: 'sue', voicemailHandledAt: '2026-11-23T23:30:00Z' });
    assert.equal(handledText(handled, names, NOON, 'UTC'), 'Handled by Sue on 23 Nov at 23:30');
    assert.equal(handledText(handled, names, NOON, 'Europe/Paris'), 'Handled by Sue at 00:30');
  });
  it('names an agent it does not know by their identity', () => {
    assert.equal(handledText(call({ voicemailHandledBy: 'zed', voicemailHandledAt: null }), names, NOON), 'Handled by zed');
  });
});

describe('voicemailRow', () => {
  it('says a voicemail cell by cell: when it went to voicemail is the call’s end', () => {
    assert.deepEqual(voicemailRow(call(), names, NOON, 'UTC'), {
      id: 'c1', caller: '+1 415-555-0123', callerDetail: null, leftAt: '24 Nov, 10:03:05', slot: '3',
      parkedBy: 'Alice', audio: '/api/voicemails/c1/audio', handled: null,
    });
  });
  it('names the caller, with the number under the name', () => {
    const row = voicemailRow(call({ callerName: 'Ada' }), names, NOON, 'UTC');
    assert.deepEqual([row.caller, row.callerDetail], ['Ada', '+1 415-555-0123']);
  });
  it('has no audio without a recording', () => {
    assert.equal(voicemailRow(call({ voicemail: false }), names, NOON).audio, null);
  });
  it('says who handled it', () => {
    const row = voicemailRow(call({ voicemailHandledBy: 'sue', voicemailHandledAt: '2026-11-24T10:10:00Z' }), names, NOON, 'UTC');
    assert.equal(row.handled, 'Handled by Sue at 10:10');
  });
  it('falls back on the park’s time for a call without an end', () => {
    assert.equal(voicemailRow(call({ endedAt: null }), names, NOON, 'UTC').leftAt, '24 Nov, 10:00:05');
  });
});

describe('audioProblem', () => {
  const cases = [
    [404, 'No message left'],
    [0, 'The message could not be loaded: the service cannot be reached.'],
    [502, 'Twilio did not give the message: try again in a moment.'],
    [200, 'This browser could not play the message.'],
    [500, 'The message could not be loaded: the service answered 500.'],
  ];
  for (const [status, words] of cases) {
    it(`${status}: ${words}`, () => assert.equal(audioProblem(/** @type {number} */ (status)), words));
  }
});

describe('callsToMerge', () => {
  const ids = (/** @type {HistoryCall[]} */ calls) => calls.map((c) => c.id);
  const page = ['n2', 'n1', 'a', 'b', 'c', 'd'].map((id) => call({ id }));
  it('takes a whole first page when nothing is shown', () => {
    assert.deepEqual(ids(callsToMerge(new Set(), page)), ['n2', 'n1', 'a', 'b', 'c', 'd']);
  });
  it('takes the new calls and those shown, and leaves older ones to Load more', () => {
    assert.deepEqual(ids(callsToMerge(new Set(['a', 'b']), page)), ['n2', 'n1', 'a', 'b']);
  });
  it('takes nothing when no call shown is on the page', () => {
    assert.deepEqual(ids(callsToMerge(new Set(['z']), page)), []);
  });
});

describe('voicemailStatus', () => {
  const cases = [
    [{ shown: 0, unhandled: 0, more: false, unhandledOnly: false }, 'No voicemails yet.'],
    [{ shown: 1, unhandled: 1, more: false, unhandledOnly: false }, '1 voicemail, not handled.'],
    [{ shown: 1, unhandled: 0, more: false, unhandledOnly: false }, '1 voicemail, handled.'],
    [{ shown: 3, unhandled: 1, more: false, unhandledOnly: false }, 'All 3 voicemails, 1 not handled.'],
    [{ shown: 3, unhandled: 3, more: false, unhandledOnly: true }, 'All 3 voicemails, none handled.'],
    [{ shown: 3, unhandled: 0, more: false, unhandledOnly: true }, 'All 3 voicemails, all handled (the handled ones hidden).'],
    [{ shown: 20, unhandled: 4, more: true, unhandledOnly: true }, 'The latest 20 voicemails, 4 not handled (the handled ones hidden): load more for earlier ones.'],
  ];
  for (const [view, words] of cases) {
    it(String(words), () => assert.equal(voicemailStatus(/** @type {Parameters<typeof voicemailStatus>[0]} */ (view)), words));
  }
});

describe('VOICEMAIL_EVENTS', () => {
  it('are the events that change a voicemail, not the lot’s', () => {
    assert.deepEqual([...VOICEMAIL_EVENTS], ['voicemail_recorded', 'voicemail_handled']);
    assert.equal(VOICEMAIL_EVENTS.has('voicemail'), false);
  });
});
