// @ts-check
// Time-out warnings: which parked calls are about to reach their deadline, and what this agent
// can do about it. The parker is told their call will ring them back (or go to voicemail); a
// call about to go to voicemail is offered to the lot's available agents ("Take it"). No DOM:
// node's test runner imports it (crates/callpark-http/ui-tests/).

/** @typedef {import('./api.js').Slot} Slot */
/** @typedef {import('./api.js').Call} Call */
/** @typedef {import('./api.js').AgentStatus} AgentStatus */

/** How long before its deadline a parked call warns. */
export const WARN_MS = 30_000;

/**
 * A parked call about to time out, as this agent sees it: `mine` (they parked it: it will
 * ring them back, or go to voicemail if they are not available then) or `take` (another
 * agent's call headed for voicemail, which this available agent can take first).
 * @typedef {object} Warning
 * @property {'mine' | 'take'} kind
 * @property {'ringback' | 'voicemail'} outcome what the deadline will do, as things stand
 * @property {number} slot
 * @property {Call} call
 * @property {number} leftMs time to the deadline (0 once it has passed, until the service acts)
 */

/**
 * What the deadline of a call does (TimeoutAction in callpark-domain): ring the parker back
 * when they are available then, else voicemail; straight to voicemail where the organisation
 * says so.
 * @param {Call} call
 * @param {(identity: string) => AgentStatus | undefined} statusOf
 * @param {boolean} voicemailAlways the organisation's timeoutAction is voicemail
 * @returns {'ringback' | 'voicemail'}
 */
export function outcomeOf(call, statusOf, voicemailAlways) {
  return !voicemailAlways && statusOf(call.parkedBy) === 'available' ? 'ringback' : 'voicemail';
}

/**
 * The warnings this agent gets now, soonest first.
 * @param {Slot[]} slots the lot
 * @param {number} now ms since the epoch, by the server's clock
 * @param {{ me: string, free: boolean, statusOf: (identity: string) => AgentStatus | undefined, voicemailAlways?: boolean }} who
 *   the agent, whether they could take a call now (available and on no call), and everyone's status
 * @returns {Warning[]}
 */
export function warningsAt(slots, now, { me, free, statusOf, voicemailAlways = false }) {
  /** @type {Warning[]} */
  const out = [];
  for (const s of slots) {
    const call = s.call;
    if (s.state !== 'parked' || !call || !call.deadline) continue;
    const left = Date.parse(call.deadline) - now;
    if (!(left <= WARN_MS)) continue;
    const outcome = outcomeOf(call, statusOf, voicemailAlways);
    const leftMs = Math.max(0, left);
    if (call.parkedBy === me) out.push({ kind: 'mine', outcome, slot: s.slot, call, leftMs });
    else if (outcome === 'voicemail' && free) out.push({ kind: 'take', outcome, slot: s.slot, call, leftMs });
  }
  return out.sort((a, b) => a.leftMs - b.leftMs || a.slot - b.slot);
}

/**
 * The warnings not yet told (a sound, a notification): each parked call is told once.
 * @param {Warning[]} warnings
 * @param {Set<string>} told the calls (ids) told already; updated
 * @returns {Warning[]}
 */
export function untold(warnings, told) {
  const fresh = warnings.filter((w) => !told.has(w.call.id));
  for (const w of fresh) told.add(w.call.id);
  return fresh;
}
