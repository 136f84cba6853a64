// @ts-check
// What the History view asks for and shows: the pages of `GET /api/history` with the outcome
// filter, the CSV link with the same filter, each call as a table row in words, and the line
// that says how many calls are shown. No DOM: node's test runner imports it
// (crates/callpark-http/ui-tests/).

import { callerSubtitle, callerTitle } from './format.js';
import { holdTime } from './reports-format.js';

/** @typedef {import('./api.js').HistoryCall} HistoryCall */
/** @typedef {import('./api.js').Outcome} Outcome */

/** Calls a page: a screenful, with "Load more" for the rest. */
export const PAGE_SIZE = 20;

/** @type {Record<Outcome, string>} */
export const OUTCOME_LABELS = {
  live: 'In the lot',
  retrieved: 'Retrieved',
  abandoned: 'Hung up',
  voicemail: 'Voicemail',
  failed: 'Failed',
};

/**
 * The filter's outcome as the select holds it: an outcome, or '' for every call.
 * @param {string} value
 * @returns {Outcome | ''}
 */
export const readOutcome = (value) => (Object.hasOwn(OUTCOME_LABELS, value) ? /** @type {Outcome} */ (value) : '');

/**
 * A page of the history: the first (no cursor), or the one after the previous page's
 * `nextCursor`, which the service takes only with the same filter.
 * @param {Outcome | ''} outcome
 * @param {string | null} [cursor]
 * @param {number} [limit] calls in the page
 */
export function historyPath(outcome, cursor, limit = PAGE_SIZE) {
  const query = new URLSearchParams();
  if (outcome) query.set('outcome', outcome);
  query.set('limit', String(limit));
  if (cursor) query.set('cursor', cursor);
  return `/api/history?${query}`;
}

/**
 * Every call the filter lets through, as CSV: a plain link does, the session cookie signs it in.
 * @param {Outcome | ''} outcome
 */
export function csvPath(outcome) {
  return outcome ? `/api/history.csv?${new URLSearchParams({ outcome })}` : '/api/history.csv';
}

/**
 * When a call was parked, in the agent's own time zone: "6 Dec, 21:46:09".
 * @param {string} iso
 * @param {string} [timeZone] the browser's when not given
 */
export function parkedAtText(iso, timeZone) {
  return new Date(iso).toLocaleString('en-GB', {
    day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZone,
  });
}

/**
 * A call as the table shows it, cell by cell.
 * @param {HistoryCall} call
 * @param {(identity: string) => string} nameOf
 * @param {string} [timeZone]
 */
export function historyRow(call, nameOf, timeZone) {
  return {
    id: call.id,
    outcome: call.outcome,
    cells: {
      parkedAt: parkedAtText(call.parkedAt, timeZone),
      slot: String(call.slot),
      caller: callerTitle(call),
      callerDetail: callerSubtitle(call),
      parkedBy: nameOf(call.parkedBy),
      retrievedBy: call.retrievedBy ? nameOf(call.retrievedBy) : '—',
      outcome: OUTCOME_LABELS[call.outcome] || call.outcome,
      onHold: holdTime(call.secondsOnHold),
      ringbacks: String(call.ringbacks),
      voicemail: call.voicemail ? 'Yes' : 'No',
    },
  };
}

/** How the line under the table names the calls the filter lets through: one, and several. */
const FILTERED_CALLS = {
  '': ['call', 'calls'],
  live: ['call still in the lot', 'calls still in the lot'],
  retrieved: ['retrieved call', 'retrieved calls'],
  abandoned: ['call whose caller hung up', 'calls whose callers hung up'],
  voicemail: ['call that went to voicemail', 'calls that went to voicemail'],
  failed: ['failed call', 'failed calls'],
};

/**
 * The line under the table: how many calls it shows, and whether there are more.
 * @param {{ shown: number, more: boolean, outcome: Outcome | '' }} view
 */
export function historyStatus({ shown, more, outcome }) {
  const [one, several] = FILTERED_CALLS[outcome];
  if (shown === 0) return outcome ? `No ${several}.` : 'No calls parked yet.';
  if (more) return `The latest ${shown} ${several}: load more for earlier ones.`;
  return shown === 1 ? `1 ${one}.` : `All ${shown} ${several}.`;
}
