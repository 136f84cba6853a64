// @ts-check
// The parking lot as this page knows it: the server's slots, kept current by the live stream's
// snapshot and events, with this page's optimistic parks and retrieves on top. No DOM: node's
// test runner imports it (crates/callpark-http/ui-tests/).

/** @typedef {import('./api.js').Call} Call */
/** @typedef {import('./api.js').CurrentCall} CurrentCall */
/** @typedef {import('./api.js').LotEvent} LotEvent */
/** @typedef {import('./api.js').LotSnapshot} LotSnapshot */
/** @typedef {import('./api.js').Parked} Parked */
/** @typedef {import('./api.js').Slot} Slot */
/** @typedef {import('./api.js').SlotState} SlotState */

/**
 * The event kinds the service emits (LotEventKind in callpark-domain). An event of any other
 * kind (a newer service's) is ignored: it may name a slot that a later call now holds.
 */
export const EVENT_KINDS = Object.freeze([
  'parked', 'updated', 'retrieving', 'retrieved', 'returned',
  'abandoned', 'timed_out', 'voicemail', 'failed',
]);

/**
 * A park this page asked for and the lot does not show yet. `pstn` and `id` name the parked
 * call once known: the caller's leg from the current call, both from the service's answer.
 * @typedef {object} PendingPark
 * @property {'park'} kind
 * @property {string | null} pstn
 * @property {string | null} id
 * @property {{ callerNumber: string | null, callerName: string | null }} caller
 * @property {string} at when it was asked for, RFC 3339 by the server's clock
 */

/**
 * A retrieve this page asked for, until the slot shows it.
 * @typedef {{ kind: 'retrieve', callId: string }} PendingRetrieve
 */

/** @typedef {PendingPark | PendingRetrieve} Pending */

/**
 * The call a slot shows: the server's, or the caller of an optimistic park.
 * @typedef {object} ViewCall
 * @property {string | null} callerNumber
 * @property {string | null} callerName
 * @property {string} parkedBy
 * @property {string} parkedAt
 * @property {string | null} deadline
 * @property {string} [pstnCallSid]
 */

/**
 * What a slot shows: free, or occupied by the server's call with this page's operation on top.
 * @typedef {{ occupied: false }
 *   | { occupied: true, state: SlotState, optimistic: boolean, call: ViewCall | undefined,
 *       retrievingAgent?: string | null, ringback?: boolean, toVoicemail?: boolean }} SlotView
 */

export class ParkingLot {
  constructor() {
    /** @type {string | null} */
    this.org = null;
    /** @type {Slot[] | null} the slots as the server last told us; null before the first snapshot */
    this.slots = null;
    /** The sequence of the last snapshot or event applied. */
    this.seq = -1;
    /** @type {Map<number, Pending>} optimistic operations by slot */
    this.pending = new Map();
  }

  /**
   * A snapshot replaces everything, whatever its sequence (a restarted in-memory service
   * starts again from zero).
   * @param {LotSnapshot} snapshot
   */
  applySnapshot(snapshot) {
    this.org = snapshot.org;
    this.slots = snapshot.slots.map((s) => ({ slot: s.slot, state: s.state, call: s.call }));
    this.seq = snapshot.sequence;
    this.settle();
  }

  /**
   * Applies an event newer than the last one applied, of a kind this page knows.
   * @param {LotEvent} event
   * @returns {boolean} whether it was applied
   */
  applyEvent(event) {
    if (!this.slots || event.sequence <= this.seq || !EVENT_KINDS.includes(event.type)) return false;
    this.seq = event.sequence;
    /** @type {Slot} */
    const next = event.state === 'free'
      ? { slot: event.slot, state: 'free' }
      : { slot: event.slot, state: event.state, call: event.call };
    const index = this.slots.findIndex((s) => s.slot === event.slot);
    if (index >= 0) this.slots[index] = next;
    else {
      this.slots.push(next);
      this.slots.sort((a, b) => a.slot - b.slot);
    }
    this.settle();
    return true;
  }

  /**
   * The lot's new size, as the service answered a change of the organisation's settings (the
   * live stream sends no event for it): slots beyond it go (the service shrinks a lot only
   * above its occupied slots), new ones are free. The sequence stays.
   * @param {number} size
   * @returns {boolean} whether the lot changed
   */
  resize(size) {
    if (!this.slots) return false;
    const before = this.slots.map((s) => s.slot).join();
    const kept = this.slots.filter((s) => s.slot <= size);
    for (let n = 1; n <= size; n += 1) {
      if (!kept.some((s) => s.slot === n)) kept.push({ slot: n, state: 'free' });
    }
    this.slots = kept.sort((a, b) => a.slot - b.slot);
    return this.slots.map((s) => s.slot).join() !== before;
  }

  /**
   * @param {number} n
   * @returns {Slot | undefined}
   */
  slot(n) {
    return this.slots ? this.slots.find((s) => s.slot === n) : undefined;
  }

  /**
   * Whether a slot takes a park: free on the server and not being parked into by this page.
   * @param {Slot} s
   */
  isFree(s) {
    const op = this.pending.get(s.slot);
    return s.state === 'free' && !(op && op.kind === 'park');
  }

  /**
   * What a slot shows: the server's state with this page's optimistic operations on top.
   * @param {Slot} s
   * @param {string} me the signed-in agent's identity, who the optimistic operations are by
   * @returns {SlotView}
   */
  view(s, me) {
    const op = this.pending.get(s.slot);
    if (s.state === 'free') {
      if (op && op.kind === 'park') {
        return {
          occupied: true, state: 'parking', optimistic: true,
          call: { ...op.caller, parkedBy: me, parkedAt: op.at, deadline: null },
        };
      }
      return { occupied: false };
    }
    const call = s.call;
    /** @type {SlotView} */
    const view = {
      occupied: true, state: s.state, call, optimistic: false,
      retrievingAgent: call && call.retrievingAgent, ringback: call && call.ringback, toVoicemail: Boolean(call && call.toVoicemail),
    };
    if (op && op.kind === 'retrieve' && s.state === 'parked') {
      view.state = 'retrieving';
      view.optimistic = true;
      view.retrievingAgent = me;
      view.ringback = false;
    }
    return view;
  }

  /**
   * Shows a park into a slot at once, until the lot shows the call there.
   * @param {number} slot
   * @param {CurrentCall} call
   * @param {string} at now, RFC 3339 by the server's clock
   * @returns {PendingPark}
   */
  beginPark(slot, call, at) {
    /** @type {PendingPark} */
    const op = {
      kind: 'park', pstn: call.pstnCallSid, id: null,
      caller: { callerNumber: call.callerNumber, callerName: call.callerName },
      at,
    };
    this.pending.set(slot, op);
    return op;
  }

  /**
   * The service accepted the park: the call it parked may already be in the lot.
   * @param {PendingPark} op
   * @param {Parked} parked
   */
  parkAccepted(op, parked) {
    op.id = parked.id;
    op.pstn = parked.pstnCallSid;
    this.settle();
  }

  /**
   * Shows a retrieve at once, when the slot holds a parked call no operation is pending on.
   * @param {number} slot
   * @returns {PendingRetrieve | null}
   */
  beginRetrieve(slot) {
    const s = this.slot(slot);
    if (!s || !s.call || s.state !== 'parked' || this.pending.has(slot)) return null;
    /** @type {PendingRetrieve} */
    const op = { kind: 'retrieve', callId: s.call.id };
    this.pending.set(slot, op);
    return op;
  }

  /**
   * Withdraws an operation: the service refused it, or the lot did not confirm it in time.
   * A later operation on the same slot stays.
   * @param {number} slot
   * @param {Pending} op
   * @returns {boolean} whether it was still pending
   */
  withdraw(slot, op) {
    if (this.pending.get(slot) !== op) return false;
    this.pending.delete(slot);
    return true;
  }

  /** Drops the optimistic operations the lot has caught up with. */
  settle() {
    for (const [slot, op] of this.pending) {
      const s = this.slot(slot);
      if (!s) continue;
      if (op.kind === 'park') {
        const landed = s.call && ((op.pstn && s.call.pstnCallSid === op.pstn) || (op.id && s.call.id === op.id));
        if (landed) this.pending.delete(slot);
      } else if (!s.call || s.call.id !== op.callId || s.state !== 'parked') {
        this.pending.delete(slot);
      }
    }
  }
}

/**
 * A `returned` event with the agent who was rung: the service sends the call as it is after
 * the event, retrieved by nobody any more, but the feed and the live region say who did not
 * answer. The name is the slot's as this page showed it before the event (the same call, being
 * retrieved); without it (the page missed the retrieve) the event stays as it is.
 * @param {LotEvent} event
 * @param {Slot | undefined} before the slot before the event was applied
 * @returns {LotEvent}
 */
export function withRetriever(event, before) {
  const call = event.call;
  const was = before && before.call;
  if (event.type !== 'returned' || !call || call.retrievingAgent || !was || was.id !== call.id || !was.retrievingAgent) return event;
  return { ...event, call: { ...call, retrievingAgent: was.retrievingAgent } };
}

/**
 * Whether an event may have changed an agent's own call or status.
 * @param {LotEvent} event
 * @param {string} me the agent's identity
 * @param {CurrentCall | null} mine the agent's current call
 */
export function concerns(event, me, mine) {
  const call = event.call || {};
  return call.retrievingAgent === me
    || call.parkedBy === me
    || Boolean(mine && mine.pstnCallSid && mine.pstnCallSid === call.pstnCallSid);
}

/**
 * The order the slots show in: by number; with `occupiedFirst` (a narrow screen), the occupied
 * ones first, so the callers waiting show without scrolling past free slots.
 * @template {{ slot: number }} T
 * @param {T[]} slots
 * @param {(s: T) => boolean} occupied
 * @param {boolean} occupiedFirst
 * @returns {T[]}
 */
export function displayOrder(slots, occupied, occupiedFirst) {
  const byNumber = [...slots].sort((a, b) => a.slot - b.slot);
  if (!occupiedFirst) return byNumber;
  return [...byNumber.filter(occupied), ...byNumber.filter((s) => !occupied(s))];
}
