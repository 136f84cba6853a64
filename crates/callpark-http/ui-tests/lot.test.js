// @ts-check
// The lot model (ui/lot.js): applying the live stream, optimistic parks and retrieves, and what
// each slot shows.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { EVENT_KINDS, ParkingLot, concerns, displayOrder, withRetriever } from '../ui/lot.js';
import { CURRENT, call, event, snapshot } from './fixtures.js';

/** A lot of 4 slots at sequence 10, with a parked call in slot 2 (or none). */
function lotAt10(parked = true) {
  const lot = new ParkingLot();
  lot.applySnapshot(snapshot(4, 10, parked ? { 2: call() } : {}));
  return lot;
}

describe('applySnapshot', () => {
  it('replaces the slots, the organisation and the sequence', () => {
    const lot = lotAt10();
    assert.equal(lot.org, 'demo');
    assert.equal(lot.seq, 10);
    assert.deepEqual(lot.slots?.map((s) => s.state), ['free', 'parked', 'free', 'free']);
    assert.deepEqual(lot.slot(2)?.call, call());
  });

  it('replaces everything even at a lower sequence (a restarted service counts from zero)', () => {
    const lot = lotAt10();
    lot.applySnapshot(snapshot(3, 0));
    assert.equal(lot.seq, 0);
    assert.deepEqual(lot.slots, [1, 2, 3].map((slot) => ({ slot, state: 'free', call: undefined })));
  });
});

describe('applyEvent: every kind the service emits', () => {
  // kind, the slot's state afterwards, and whether the slot held a call before.
  const cases = [
    ['parked', 'parking', false],
    ['updated', 'parked', true],
    ['retrieving', 'retrieving', true],
    ['retrieved', 'free', true],
    ['returned', 'parked', true],
    ['abandoned', 'free', true],
    ['timed_out', 'retrieving', true],
    ['voicemail', 'free', true],
    ['failed', 'free', false],
  ];

  it('knows exactly the kinds of LotEventKind', () => {
    assert.deepEqual([...EVENT_KINDS].sort(), cases.map(([kind]) => kind).sort());
  });

  for (const [kind, after, before] of cases) {
    it(`${kind}: slot 2 becomes ${after}, the sequence advances, the other slots stay`, () => {
      const lot = lotAt10(Boolean(before));
      const changed = call({ state: after === 'free' ? 'retrieved' : String(after), retrievingAgent: 'bob' });
      assert.equal(lot.applyEvent(event(String(kind), 11, 2, String(after), changed)), true);
      assert.equal(lot.seq, 11);
      const expected = after === 'free' ? { slot: 2, state: 'free' } : { slot: 2, state: after, call: changed };
      assert.deepEqual(lot.slot(2), expected);
      assert.deepEqual([1, 3, 4].map((n) => lot.slot(n)), [1, 3, 4].map((slot) => ({ slot, state: 'free', call: undefined })));
    });
  }
});

describe('applyEvent: what it ignores', () => {
  const ignored = [
    ['an unknown kind (a newer service: voicemail_recorded)', event('voicemail_recorded', 11, 2, 'free', call({ state: 'voicemail' }))],
    ['an unknown kind without a call', /** @type {any} */ ({ sequence: 11, type: 'something_new', slot: 2 })],
    ['an event already applied', event('abandoned', 10, 2, 'free', call())],
    ['an older event', event('abandoned', 9, 2, 'free', call())],
  ];
  for (const [what, e] of ignored) {
    it(`ignores ${what}: the lot and the sequence stay`, () => {
      const lot = lotAt10();
      const before = structuredClone(lot.slots);
      assert.equal(lot.applyEvent(/** @type {any} */ (e)), false);
      assert.equal(lot.seq, 10);
      assert.deepEqual(lot.slots, before);
    });
  }

  it('still applies the known events after an unknown one', () => {
    const lot = lotAt10();
    lot.applyEvent(event('voicemail_recorded', 11, 2, 'free', call()));
    assert.equal(lot.applyEvent(event('abandoned', 12, 2, 'free', call())), true);
    assert.equal(lot.slot(2)?.state, 'free');
  });

  it('ignores every event before the first snapshot', () => {
    const lot = new ParkingLot();
    assert.equal(lot.applyEvent(event('parked', 1, 1, 'parking', call({ state: 'parking' }))), false);
    assert.equal(lot.slots, null);
    assert.equal(lot.seq, -1);
  });
});

describe('applyEvent: a slot the lot did not have', () => {
  it('is added in slot order', () => {
    const lot = new ParkingLot();
    lot.applySnapshot(snapshot(2, 10));
    lot.applyEvent(event('parked', 11, 5, 'parking', call({ state: 'parking' })));
    lot.applyEvent(event('parked', 12, 3, 'parking', call({ id: 'c2', state: 'parking' })));
    assert.deepEqual(lot.slots?.map((s) => s.slot), [1, 2, 3, 5]);
  });
});

describe('resize: the lot at the size the settings say', () => {
  it('grows with free slots, keeping the calls and the sequence', () => {
    const lot = lotAt10();
    assert.equal(lot.resize(6), true);
    assert.deepEqual(lot.slots?.map((s) => [s.slot, s.state]), [[1, 'free'], [2, 'parked'], [3, 'free'], [4, 'free'], [5, 'free'], [6, 'free']]);
    assert.deepEqual(lot.slot(2)?.call, call());
    assert.equal(lot.seq, 10);
  });
  it('shrinks, dropping the slots beyond the size', () => {
    const lot = lotAt10();
    assert.equal(lot.resize(2), true);
    assert.deepEqual(lot.slots?.map((s) => s.slot), [1, 2]);
    assert.equal(lot.slot(2)?.state, 'parked');
  });
  it('fills a gap an event left and says when nothing changed', () => {
    const lot = new ParkingLot();
    lot.applySnapshot(snapshot(2, 10));
    lot.applyEvent(event('parked', 11, 4, 'parking', call({ state: 'parking' })));
    assert.equal(lot.resize(4), true);
    assert.deepEqual(lot.slots?.map((s) => s.slot), [1, 2, 3, 4]);
    assert.equal(lot.resize(4), false);
  });
  it('does nothing before the first snapshot', () => {
    const lot = new ParkingLot();
    assert.equal(lot.resize(8), false);
    assert.equal(lot.slots, null);
  });
});

describe('optimistic park', () => {
  const AT = '2026-11-24T10:00:00.000Z';

  it('shows the call parking in the slot at once, by this agent', () => {
    const lot = lotAt10(false);
    lot.beginPark(3, CURRENT, AT);
    const s = /** @type {import('../ui/api.js').Slot} */ (lot.slot(3));
    assert.equal(lot.isFree(s), false);
    assert.deepEqual(lot.view(s, 'carol'), {
      occupied: true, state: 'parking', optimistic: true,
      call: { callerNumber: '+14155550199', callerName: 'Dana', parkedBy: 'carol', parkedAt: AT, deadline: null },
    });
  });

  it('rolls back when the service refuses: the slot is free again', () => {
    const lot = lotAt10(false);
    const op = lot.beginPark(3, CURRENT, AT);
    assert.equal(lot.withdraw(3, op), true);
    const s = /** @type {import('../ui/api.js').Slot} */ (lot.slot(3));
    assert.equal(lot.isFree(s), true);
    assert.deepEqual(lot.view(s, 'carol'), { occupied: false });
    assert.equal(lot.withdraw(3, op), false, 'a second rollback finds nothing');
  });

  it('a rollback of an older operation leaves a newer one on the same slot', () => {
    const lot = lotAt10(false);
    const first = lot.beginPark(3, CURRENT, AT);
    lot.withdraw(3, first);
    const second = lot.beginPark(3, CURRENT, AT);
    assert.equal(lot.withdraw(3, first), false);
    assert.equal(lot.pending.get(3), second);
  });

  // Which event confirms the park: the caller's leg, or the parked call's id once known.
  /** @type {Array<[string, { id: string, pstnCallSid: string } | null, import('../ui/api.js').Call, boolean]>} */
  const confirmations = [
    ['the caller\'s leg of the current call', null, call({ id: 'other', pstnCallSid: CURRENT.pstnCallSid, state: 'parking' }), true],
    ['the id the service answered', { id: 'p1', pstnCallSid: 'CA-x' }, call({ id: 'p1', pstnCallSid: 'CA-y', state: 'parking' }), true],
    ['the caller\'s leg the service answered', { id: 'p1', pstnCallSid: 'CA-x' }, call({ id: 'p2', pstnCallSid: 'CA-x', state: 'parking' }), true],
    ['neither: another agent\'s call', { id: 'p1', pstnCallSid: 'CA-x' }, call({ id: 'p2', pstnCallSid: 'CA-z', state: 'parking' }), false],
  ];
  for (const [what, parked, landed, settles] of confirmations) {
    it(`${settles ? 'settles' : 'stays pending'} when the lot shows ${what}`, () => {
      const lot = lotAt10(false);
      const op = lot.beginPark(3, CURRENT, AT);
      if (parked) lot.parkAccepted(op, { slot: 3, conferenceName: 'x', parkedAt: AT, state: 'parking', ...parked });
      lot.applyEvent(event('parked', 11, 3, 'parking', landed));
      assert.equal(lot.pending.has(3), !settles);
      const s = /** @type {import('../ui/api.js').Slot} */ (lot.slot(3));
      // Either way the slot shows the server's call, not the optimistic one.
      assert.deepEqual(lot.view(s, 'carol'), {
        occupied: true, state: 'parking', call: landed, optimistic: false,
        retrievingAgent: null, ringback: false, toVoicemail: false,
      });
    });
  }

  it('settles on a snapshot that shows the call', () => {
    const lot = lotAt10(false);
    lot.beginPark(3, CURRENT, AT);
    lot.applySnapshot(snapshot(4, 11, { 3: call({ pstnCallSid: CURRENT.pstnCallSid }) }));
    assert.equal(lot.pending.size, 0);
  });

  it('the service\'s answer settles it when the event came first', () => {
    const lot = lotAt10(false);
    const op = lot.beginPark(3, { ...CURRENT, pstnCallSid: null }, AT);
    lot.applyEvent(event('parked', 11, 3, 'parking', call({ id: 'p1', state: 'parking' })));
    assert.equal(lot.pending.has(3), true);
    lot.parkAccepted(op, { id: 'p1', slot: 3, conferenceName: 'x', pstnCallSid: 'CA-pstn-1', parkedAt: AT, state: 'parking' });
    assert.equal(lot.pending.has(3), false);
  });
});

describe('optimistic retrieve', () => {
  it('shows the parked call being retrieved by this agent at once', () => {
    const lot = lotAt10();
    assert.ok(lot.beginRetrieve(2));
    const s = /** @type {import('../ui/api.js').Slot} */ (lot.slot(2));
    assert.deepEqual(lot.view(s, 'carol'), {
      occupied: true, state: 'retrieving', call: call(), optimistic: true,
      retrievingAgent: 'carol', ringback: false, toVoicemail: false,
    });
  });

  const refused = [
    ['a free slot', () => lotAt10(false)],
    ['a slot that is not there', () => { const lot = lotAt10(); lot.applySnapshot(snapshot(1, 11)); return lot; }],
    ['a call still parking', () => { const lot = new ParkingLot(); lot.applySnapshot(snapshot(4, 10, { 2: call({ state: 'parking' }) })); return lot; }],
    ['a call being retrieved', () => { const lot = new ParkingLot(); lot.applySnapshot(snapshot(4, 10, { 2: call({ state: 'retrieving' }) })); return lot; }],
    ['a slot with a retrieve pending', () => { const lot = lotAt10(); lot.beginRetrieve(2); return lot; }],
  ];
  for (const [what, make] of refused) {
    it(`does not start on ${what}`, () => {
      const lot = /** @type {() => ParkingLot} */ (make)();
      const pending = new Map(lot.pending);
      assert.equal(lot.beginRetrieve(2), null);
      assert.deepEqual(lot.pending, pending);
    });
  }

  it('rolls back when the service refuses: parked again', () => {
    const lot = lotAt10();
    const op = /** @type {import('../ui/lot.js').PendingRetrieve} */ (lot.beginRetrieve(2));
    assert.equal(lot.withdraw(2, op), true);
    const s = /** @type {import('../ui/api.js').Slot} */ (lot.slot(2));
    const view = lot.view(s, 'carol');
    assert.equal(view.occupied && view.state, 'parked');
  });

  // The slot after the event, and whether that settles the retrieve.
  /** @type {Array<[string, string, import('../ui/api.js').Call, boolean]>} */
  const settling = [
    ['retrieving', 'retrieving', call({ state: 'retrieving', retrievingAgent: 'carol' }), true],
    ['retrieved', 'free', call({ state: 'retrieved' }), true],
    ['abandoned', 'free', call({ state: 'abandoned' }), true],
    ['updated (still parked, same call)', 'parked', call({ conferenceSid: 'CF2' }), false],
    ['updated (another call in the slot)', 'parked', call({ id: 'c9' }), true],
  ];
  for (const [what, after, c, settles] of settling) {
    it(`${settles ? 'settles' : 'stays pending'} on ${what}`, () => {
      const lot = lotAt10();
      lot.beginRetrieve(2);
      const kind = String(what).split(' ')[0];
      lot.applyEvent(event(kind, 11, 2, after, c));
      assert.equal(lot.pending.has(2), !settles);
    });
  }
});

describe('slot view', () => {
  /** @type {Array<[string, import('../ui/api.js').Call | undefined, object]>} */
  const views = [
    ['free', undefined, { occupied: false }],
    ['parked', call(), { occupied: true, state: 'parked', call: call(), optimistic: false, retrievingAgent: null, ringback: false, toVoicemail: false }],
    ['parking', call({ state: 'parking' }), { occupied: true, state: 'parking', call: call({ state: 'parking' }), optimistic: false, retrievingAgent: null, ringback: false, toVoicemail: false }],
    ['retrieving', call({ state: 'retrieving', retrievingAgent: 'bob' }), { occupied: true, state: 'retrieving', call: call({ state: 'retrieving', retrievingAgent: 'bob' }), optimistic: false, retrievingAgent: 'bob', ringback: false, toVoicemail: false }],
    ['retrieving', call({ state: 'retrieving', retrievingAgent: 'alice', ringback: true }), { occupied: true, state: 'retrieving', call: call({ state: 'retrieving', retrievingAgent: 'alice', ringback: true }), optimistic: false, retrievingAgent: 'alice', ringback: true, toVoicemail: false }],
    ['retrieving', call({ state: 'retrieving', toVoicemail: true }), { occupied: true, state: 'retrieving', call: call({ state: 'retrieving', toVoicemail: true }), optimistic: false, retrievingAgent: null, ringback: false, toVoicemail: true }],
  ];
  for (const [state, c, expected] of views) {
    const detail = c ? JSON.stringify({ retrievingAgent: c.retrievingAgent, ringback: c.ringback, toVoicemail: c.toVoicemail }) : '';
    it(`${state} ${detail}`, () => {
      const lot = new ParkingLot();
      lot.applySnapshot({ org: 'demo', sequence: 1, slots: [{ slot: 1, state: /** @type {any} */ (state), call: /** @type {any} */ (c) }] });
      const s = /** @type {import('../ui/api.js').Slot} */ (lot.slot(1));
      assert.deepEqual(lot.view(s, 'carol'), expected);
      assert.equal(lot.isFree(s), state === 'free');
    });
  }

  it('a retrieve pending on a slot no longer parked shows the server\'s state', () => {
    const lot = lotAt10();
    lot.beginRetrieve(2);
    // The slot changes under the pending retrieve without settling it (no settle on a direct edit).
    /** @type {any} */ (lot.slot(2)).state = 'parking';
    const view = lot.view(/** @type {any} */ (lot.slot(2)), 'carol');
    assert.equal(view.occupied && view.state, 'parking');
    assert.equal(view.occupied && view.optimistic, false);
  });
});

describe('concerns: whether an event may change the agent\'s own call or status', () => {
  /** @type {Array<[string, import('../ui/api.js').Call, import('../ui/api.js').CurrentCall | null, boolean]>} */
  const cases = [
    ['parked by the agent', call({ parkedBy: 'carol' }), null, true],
    ['being retrieved by the agent', call({ retrievingAgent: 'carol' }), null, true],
    ['the caller of the agent\'s current call', call({ pstnCallSid: CURRENT.pstnCallSid }), CURRENT, true],
    ['another agent\'s call', call(), CURRENT, false],
    ['another agent\'s call, no current call', call(), null, false],
  ];
  for (const [what, c, mine, expected] of cases) {
    it(`${what}: ${expected}`, () => {
      const e = event('updated', 11, 2, 'parked', c);
      assert.equal(concerns(e, 'carol', mine), expected);
    });
  }
});

describe('withRetriever: who a returned caller was being retrieved by', () => {
  // The service sends a returned call as it is after the event: retrieved by nobody.
  const back = call({ retrievingAgent: null });
  const beingRetrieved = { slot: 2, state: /** @type {const} */ ('retrieving'), call: call({ state: 'retrieving', retrievingAgent: 'bob' }) };
  /** @type {Array<[string, import('../ui/api.js').LotEvent, import('../ui/api.js').Slot | undefined, string | null]>} */
  const cases = [
    ['returned: the agent the slot showed retrieving it', event('returned', 11, 2, 'parked', back), beingRetrieved, 'bob'],
    ['returned, and the service named the agent: theirs', event('returned', 11, 2, 'parked', call({ retrievingAgent: 'carol' })), beingRetrieved, 'carol'],
    ['returned, the slot held another call: nobody known', event('returned', 11, 2, 'parked', call({ id: 'c2', retrievingAgent: null })), beingRetrieved, null],
    ['returned, the slot was not being retrieved: nobody known', event('returned', 11, 2, 'parked', back), { slot: 2, state: 'parked', call: call() }, null],
    ['returned, the slot was free (a snapshot missed the retrieve): nobody known', event('returned', 11, 2, 'parked', back), { slot: 2, state: 'free' }, null],
    ['returned to a slot this page did not have: nobody known', event('returned', 11, 2, 'parked', back), undefined, null],
    ['another kind: as it is', event('updated', 11, 2, 'parked', back), beingRetrieved, null],
  ];
  for (const [what, e, before, expected] of cases) {
    it(what, () => {
      const named = withRetriever(e, before);
      assert.equal(named.call.retrievingAgent, expected);
      assert.deepEqual({ ...named, call: { ...named.call, retrievingAgent: null } }, { ...e, call: { ...e.call, retrievingAgent: null } }, 'nothing else changes');
      assert.equal(e.call.retrievingAgent, what.includes('named') ? 'carol' : null, 'the event received is left as it is');
    });
  }
  it('named from the lot as it was before the event', () => {
    const lot = new ParkingLot();
    lot.applySnapshot(snapshot(4, 10, { 2: call({ state: 'retrieving', retrievingAgent: 'bob' }) }));
    const e = event('returned', 11, 2, 'parked', back);
    const before = lot.slot(2);
    assert.equal(lot.applyEvent(e), true);
    assert.equal(withRetriever(e, before).call.retrievingAgent, 'bob');
    assert.equal(lot.slot(2)?.call?.retrievingAgent, null, 'the lot shows the call as the service sent it');
  });
});

describe('displayOrder', () => {
  /** Slots 1–6 given out of order, 5 and 2 occupied (and an optimistic park in 6). */
  function slots() {
    const lot = new ParkingLot();
    lot.applySnapshot(snapshot(6, 1, { 2: call(), 5: call({ id: 'c5', pstnCallSid: 'CA-pstn-5' }) }));
    lot.beginPark(6, CURRENT, '2026-11-24T10:01:00Z');
    const views = (lot.slots || []).map((s) => ({ slot: s.slot, occupied: lot.view(s, 'alice').occupied }));
    return [views[3], views[0], views[5], views[1], views[4], views[2]];
  }
  const numbers = (/** @type {{ slot: number }[]} */ list) => list.map((s) => s.slot);

  it('shows the slots by number on a wide screen', () => {
    assert.deepEqual(numbers(displayOrder(slots(), (s) => s.occupied, false)), [1, 2, 3, 4, 5, 6]);
  });

  it('shows the occupied slots first, each group by number, on a narrow one', () => {
    assert.deepEqual(numbers(displayOrder(slots(), (s) => s.occupied, true)), [2, 5, 6, 1, 3, 4]);
  });

  it('leaves the slots it is given as they were', () => {
    const given = slots();
    const before = numbers(given);
    displayOrder(given, (s) => s.occupied, true);
    assert.deepEqual(numbers(given), before);
  });
});
