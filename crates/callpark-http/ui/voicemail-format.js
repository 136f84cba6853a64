// @ts-check
// What the Voicemail view asks for and shows: the history's voicemails a page at a time, the
// message's audio and "handled" paths, each voicemail as a row in words, the message's length,
// which calls a refresh merges into those shown, and the line under the table. No DOM: node's
// test runner imports it (crates/callpark-http/ui-tests/).

import { callerSubtitle, callerTitle, duration } from './format.js';
import { PAGE_SIZE, historyPath, parkedAtText } from './history-format.js';

/** @typedef {import('./api.js').HistoryCall} HistoryCall */

/**
 * The live stream's events that change a voicemail: its recording is ready, or an agent took
 * care of it. They change no slot (live.js NOTE_KINDS), so the view asks the history again.
 */
export const VOICEMAIL_EVENTS = new Set(['voicemail_recorded', 'voicemail_handled']);

/** The most calls the service gives in one page (`limit`). */
const MAX_LIMIT = 500;

/**
 * A page of the voicemails: the history's calls that went to voicemail, newest first. A
 * refresh asks for as many as are shown, and a page more (`limit`), in one request.
 * @param {string | null} cursor
 * @param {number} [limit]
 */
export const voicemailsPath = (cursor, limit = PAGE_SIZE) => historyPath('voicemail', cursor, Math.min(limit, MAX_LIMIT));

/**
 * How many calls a refresh asks for: those shown and room for the ones left since.
 * @param {number} shown
 */
export const refreshLimit = (shown) => Math.min(shown + PAGE_SIZE, MAX_LIMIT);

/** @param {string} id */
export const audioPath = (id) => `/api/voicemails/${encodeURIComponent(id)}/audio`;

/** @param {string} id */
export const handledPath = (id) => `/api/voicemails/${encodeURIComponent(id)}/handled`;

/**
 * A message's length from its audio's metadata: "0:04", or "—" while it is not known (not
 * loaded yet, or a stream that does not say).
 * @param {number | null | undefined} seconds
 */
export function lengthText(seconds) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) return '—';
  return duration(Math.max(1, Math.round(seconds)) * 1000);
}

/**
 * What a row says when its message would not load, after the audio endpoint's status: 404 is
 * no recording (none was left, or it has been forgotten since), 502/504 Twilio failing, and a
 * success the browser's own failure to decode it.
 * @param {number} status 0: the service could not be reached
 */
export function audioProblem(status) {
  if (status === 404) return 'No message left';
  if (status === 0) return 'The message could not be loaded: the service cannot be reached.';
  if (status >= 200 && status < 300) return 'This browser could not play the message.';
  if (status === 502 || status === 504) return 'Twilio did not give the message: try again in a moment.';
  return `The message could not be loaded: the service answered ${status}.`;
}

/**
 * The time of day, or the day and the time when it is not today (in the same time zone).
 * @param {string} iso
 * @param {number} now ms since the epoch
 * @param {string} [timeZone]
 */
function atText(iso, now, timeZone) {
  const day = (/** @type {number | string} */ t) => new Date(t).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone });
  const time = new Date(iso).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', timeZone });
  if (day(iso) === day(now)) return `at ${time}`;
  const date = new Date(iso).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', timeZone });
  return `on ${date} at ${time}`;
}

/**
 * Who took care of a voicemail, and when: "Handled by Sue at 14:05" (today), "Handled by Sue
 * on 5 Dec at 14:05"; null while nobody has.
 * @param {HistoryCall} call
 * @param {(identity: string) => string} nameOf
 * @param {number} now ms since the epoch
 * @param {string} [timeZone]
 */
export function handledText(call, nameOf, now, timeZone) {
  if (!call.voicemailHandledBy) return null;
  const when = call.voicemailHandledAt ? ` ${atText(call.voicemailHandledAt, now, timeZone)}` : '';
  return `Handled by ${nameOf(call.voicemailHandledBy)}${when}`;
}

/**
 * A voicemail as the table shows it: the caller, when the call went to voicemail (its end),
 * the slot, who parked it, the message's audio (null: the caller left none) and who handled it.
 * @param {HistoryCall} call
 * @param {(identity: string) => string} nameOf
 * @param {number} now ms since the epoch
 * @param {string} [timeZone]
 */
export function voicemailRow(call, nameOf, now, timeZone) {
  return {
    id: call.id,
    caller: callerTitle(call),
    callerDetail: callerSubtitle(call),
    leftAt: parkedAtText(call.endedAt || call.parkedAt, timeZone),
    slot: String(call.slot),
    parkedBy: nameOf(call.parkedBy),
    audio: call.voicemail ? audioPath(call.id) : null,
    handled: handledText(call, nameOf, now, timeZone),
  };
}

/**
 * Which calls of a fresh first page a refresh merges into the table: with nothing shown, all
 * of them (a first page); else those down to the oldest one shown already. Older ones are
 * left to "Load more", whose cursor still follows the oldest call shown.
 * @param {Set<string>} shownIds
 * @param {HistoryCall[]} calls newest first
 */
export function callsToMerge(shownIds, calls) {
  if (shownIds.size === 0) return calls;
  let last = -1;
  calls.forEach((call, i) => {
    if (shownIds.has(call.id)) last = i;
  });
  return calls.slice(0, last + 1);
}

/** @param {number} n */
const voicemails = (n) => (n === 1 ? '1 voicemail' : `${n} voicemails`);

/**
 * The line under the table: how many voicemails it holds, how many nobody has handled, and
 * whether there are earlier ones to load.
 * @param {{ shown: number, unhandled: number, more: boolean, unhandledOnly: boolean }} view
 */
export function voicemailStatus({ shown, unhandled, more, unhandledOnly }) {
  if (shown === 0) return 'No voicemails yet.';
  const held = more ? `The latest ${voicemails(shown)}` : shown === 1 ? '1 voicemail' : `All ${voicemails(shown)}`;
  const one = shown === 1;
  const open = unhandled === 0 ? (one ? 'handled' : 'all handled')
    : unhandled === shown ? (one ? 'not handled' : 'none handled') : `${unhandled} not handled`;
  const filtered = unhandledOnly && unhandled < shown ? ' (the handled ones hidden)' : '';
  return `${held}, ${open}${filtered}${more ? ': load more for earlier ones.' : '.'}`;
}
