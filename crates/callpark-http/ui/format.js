// @ts-check
// What the page says: numbers, names, durations and the words for the lot's events. No DOM.

/** @typedef {import('./api.js').LotEvent} LotEvent */
/** @typedef {{ callerNumber?: string | null, callerName?: string | null }} Caller */

/** @param {string | null | undefined} number */
export function formatNumber(number) {
  if (!number) return 'Unknown caller';
  const nanp = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(number);
  if (nanp) return `+1 ${nanp[1]}-${nanp[2]}-${nanp[3]}`;
  return number;
}

/** @param {Caller} call */
export function callerTitle(call) {
  return call.callerName || formatNumber(call.callerNumber);
}

/** @param {Caller} call */
export function callerSubtitle(call) {
  return call.callerName ? formatNumber(call.callerNumber) : null;
}

/**
 * m:ss, or h:mm:ss from an hour on; never negative.
 * @param {number} ms
 */
export function duration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/**
 * A message as a sentence: capitalised, with a full stop.
 * @param {string | null | undefined} text
 */
export function sentence(text) {
  const t = String(text || '').trim();
  if (!t) return '';
  const s = t[0].toUpperCase() + t.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

/**
 * A failed load in words: "Could not load the history. <the service's reason>."
 * @param {{ status: number, message: string }} error the ApiError
 * @param {string} what e.g. "the history"
 */
export function couldNotLoad(error, what) {
  if (error.status === 0) return `Could not load ${what}: the service cannot be reached. Check your connection and try again.`;
  return `Could not load ${what}. ${sentence(error.message)}`;
}

/** @type {Record<string, string>} */
export const STATUS_LABELS = { available: 'Available', on_call: 'On a call', offline: 'Offline' };

/**
 * What to tell the agent about an event: a polite announcement, an error (their own park
 * failed), or nothing (their own action, already announced; or a kind without words).
 * @param {LotEvent} event
 * @param {string | null} me the agent's identity
 * @param {(identity: string | null | undefined) => string} nameOf
 * @returns {{ announce: string } | { error: string } | null}
 */
export function eventMessage(event, me, nameOf) {
  const call = event.call || {};
  const who = callerTitle(call);
  const slot = `Slot ${event.slot}`;
  /** @param {string | null | undefined} identity */
  const byMe = (identity) => me !== null && identity === me;
  switch (event.type) {
    case 'parked':
      return byMe(call.parkedBy) ? null : { announce: `${slot}: ${who} parked by ${nameOf(call.parkedBy)}.` };
    case 'retrieving':
      return call.retrievingAgent && !byMe(call.retrievingAgent)
        ? { announce: `${slot}: ${nameOf(call.retrievingAgent)} is retrieving ${who}.` }
        : null;
    case 'retrieved':
      return { announce: `${slot} is free: ${nameOf(call.retrievingAgent)} took ${who}.` };
    case 'returned':
      return call.retrievingAgent
        ? { announce: `${slot}: ${who} is back on hold; ${nameOf(call.retrievingAgent)} did not answer.` }
        : { announce: `${slot}: ${who} is back on hold; nobody answered.` };
    case 'abandoned':
      return { announce: `${slot} is free: ${who} hung up.` };
    case 'timed_out':
      return { announce: `${slot}: hold time is up for ${who}.` };
    case 'voicemail':
      return { announce: `${slot} is free: ${who} went to voicemail.` };
    case 'failed':
      return byMe(call.parkedBy)
        ? { error: `Parking ${who} in slot ${event.slot} failed: the caller could not be moved to the lot.` }
        : { announce: `${slot}: parking ${who} failed.` };
    default:
      return null;
  }
}
