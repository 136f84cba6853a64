// @ts-check
// Lots, calls and events as the service sends them (docs/http-api.md), for the unit tests.

/**
 * A parked call (CallDto) with the given fields.
 * @param {Partial<import('../ui/api.js').Call>} [fields]
 * @returns {import('../ui/api.js').Call}
 */
export function call(fields = {}) {
  return {
    id: 'c1',
    state: 'parked',
    callerNumber: '+14155550123',
    callerName: null,
    parkedBy: 'alice',
    parkedAt: '2026-11-24T10:00:00Z',
    conferenceSid: 'CF1',
    pstnCallSid: 'CA-pstn-1',
    deadline: '2026-11-24T10:05:00Z',
    retrievingAgent: null,
    ringback: false,
    toVoicemail: false,
    endedAt: null,
    ...fields,
  };
}

/**
 * A lot of `size` slots at a sequence, with the given calls in theirs.
 * @param {number} size
 * @param {number} sequence
 * @param {Record<number, import('../ui/api.js').Call>} [calls]
 * @returns {import('../ui/api.js').LotSnapshot}
 */
export function snapshot(size, sequence, calls = {}) {
  const slots = [];
  for (let slot = 1; slot <= size; slot += 1) {
    const c = calls[slot];
    slots.push(c ? { slot, state: /** @type {any} */ (c.state), call: c } : { slot, state: /** @type {const} */ ('free') });
  }
  return { org: 'demo', slots, sequence };
}

/**
 * A live event (EventDto).
 * @param {string} type
 * @param {number} sequence
 * @param {number} slot
 * @param {string} state the slot's state afterwards
 * @param {import('../ui/api.js').Call} c
 * @returns {import('../ui/api.js').LotEvent}
 */
export function event(type, sequence, slot, state, c) {
  return { sequence, type, at: '2026-11-24T10:00:01Z', slot, state: /** @type {any} */ (state), call: c };
}

/** The agent's current call (CurrentCallDto). */
export const CURRENT = Object.freeze({
  callSid: 'CA-agent-leg',
  pstnCallSid: 'CA-pstn-9',
  callerNumber: '+14155550199',
  callerName: 'Dana',
});
