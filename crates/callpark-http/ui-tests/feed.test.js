// @ts-check
// The activity feed's words (ui/feed.js): one case per event kind, the cap and the order, and
// where a retrieved call came from.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { FEED_SIZE, addToFeed, feedText, originOf } from '../ui/feed.js';
import { call, event } from './fixtures.js';

/** @param {string | null | undefined} id */
const nameOf = (id) => (id === 'me' ? 'you' : { alice: 'Alice', bob: 'Bob' }[id || ''] || 'someone');
const PARKED_AT = '2026-11-24T10:00:00Z';
/**
 * An event at 10:03:00, three minutes after the call was parked.
 * @param {string} type
 * @param {Partial<import('../ui/api.js').Call>} [fields]
 */
const at3min = (type, fields = {}) => ({
  ...event(type, 11, 4, 'free', call({ parkedAt: PARKED_AT, ...fields })),
  at: '2026-11-24T10:03:00Z',
});

describe('feedText', () => {
  it('parked: who parked whom, where', () => {
    assert.equal(feedText(at3min('parked'), nameOf), 'Alice parked +1 415-555-0123 in slot 4');
  });
  it('retrieved: who took the caller, from which slot, after how long', () => {
    assert.equal(feedText(at3min('retrieved', { retrievingAgent: 'bob' }), nameOf), 'Bob took +1 415-555-0123 from slot 4 after 3:00');
    assert.equal(feedText(at3min('retrieved', { retrievingAgent: 'me' }), nameOf), 'You took +1 415-555-0123 from slot 4 after 3:00');
  });
  it('retrieved after a ring-back: the parker answered it', () => {
    assert.equal(feedText(at3min('retrieved', { retrievingAgent: 'alice', ringback: true }), nameOf),
      'Alice answered the ring-back of +1 415-555-0123 from slot 4');
  });
  it('timed_out with a ring-back: the slot rang its parker back', () => {
    assert.equal(feedText(at3min('timed_out', { retrievingAgent: 'alice', ringback: true }), nameOf), 'Slot 4 rang Alice back after 3:00');
  });
  it('timed_out to voicemail', () => {
    assert.equal(feedText(at3min('timed_out', { toVoicemail: true }), nameOf), 'Slot 4 timed out after 3:00: +1 415-555-0123 goes to voicemail');
  });
  it('voicemail and voicemail_recorded', () => {
    assert.equal(feedText(at3min('voicemail', { callerName: 'Dana' }), nameOf), 'Dana went to voicemail from slot 4');
    assert.equal(feedText(at3min('voicemail_recorded'), nameOf), '+1 415-555-0123 left a voicemail');
    assert.equal(feedText(at3min('voicemail_handled'), nameOf), "+1 415-555-0123's voicemail was taken care of");
  });
  it('abandoned: the caller hung up, after how long on hold (its end when known)', () => {
    assert.equal(feedText(at3min('abandoned'), nameOf), '+1 415-555-0123 hung up in slot 4 after 3:00');
    assert.equal(feedText(at3min('abandoned', { endedAt: '2026-11-24T10:01:12Z' }), nameOf), '+1 415-555-0123 hung up in slot 4 after 1:12');
  });
  it('returned: back in the slot, nobody answered', () => {
    assert.equal(feedText(at3min('returned', { retrievingAgent: 'bob' }), nameOf), '+1 415-555-0123 is back in slot 4: Bob did not answer');
    assert.equal(feedText(at3min('returned', { retrievingAgent: null }), nameOf), '+1 415-555-0123 is back in slot 4: nobody answered');
  });
  it('failed', () => {
    assert.equal(feedText(at3min('failed'), nameOf), 'Parking +1 415-555-0123 in slot 4 failed');
  });
  it('no line for updated, retrieving or a kind it does not know', () => {
    for (const type of ['updated', 'retrieving', 'something_new']) assert.equal(feedText(at3min(type), nameOf), null, type);
  });
});

describe('addToFeed', () => {
  it('puts the newest first, caps the feed, and says a replayed event once', () => {
    let feed = /** @type {import('../ui/feed.js').FeedLine[]} */ ([]);
    for (let seq = 1; seq <= FEED_SIZE + 3; seq += 1) feed = addToFeed(feed, { ...at3min('abandoned'), sequence: seq }, nameOf);
    assert.equal(feed.length, FEED_SIZE);
    assert.equal(feed[0].key, FEED_SIZE + 3);
    assert.equal(feed[FEED_SIZE - 1].key, 4);
    assert.equal(addToFeed(feed, { ...at3min('abandoned'), sequence: FEED_SIZE + 3 }, nameOf), feed);
    assert.equal(addToFeed(feed, { ...at3min('updated'), sequence: 99 }, nameOf), feed);
  });
});

describe('originOf', () => {
  it('a call retrieved by the agent: its slot and how long it waited', () => {
    const e = at3min('retrieved', { retrievingAgent: 'me', pstnCallSid: 'CA-x' });
    assert.deepEqual(originOf(e, 'me'), { pstnCallSid: 'CA-x', slot: 4, waitedMs: 180_000 });
  });
  it('nothing for another agent\'s retrieve or another kind', () => {
    assert.equal(originOf(at3min('retrieved', { retrievingAgent: 'bob' }), 'me'), null);
    assert.equal(originOf(at3min('retrieving', { retrievingAgent: 'me' }), 'me'), null);
  });
});
