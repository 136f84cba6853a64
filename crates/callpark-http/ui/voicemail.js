// @ts-check
// The Voicemail view, for every agent: the history's calls that went to voicemail, newest first,
// a page at a time (`GET /api/history?outcome=voicemail`, "Load more" after `nextCursor`), each
// with the caller's message to play (`<audio>` on `/api/voicemails/{id}/audio`: the service
// passes the recording on, so the page never sees Twilio) and "Mark handled"
// (`POST /api/voicemails/{id}/handled`). Loaded afresh each time the view opens (views.js);
// while it shows, the live stream's voicemail events refresh it in place (main.js), so a
// message being played keeps playing.

import { api, apiError, serverNow } from './api.js';
import { $, announce, h, showMessage } from './dom.js';
import { couldNotLoad, sentence } from './format.js';
import { teamName } from './state.js';
import {
  VOICEMAIL_EVENTS, audioProblem, callsToMerge, handledPath, lengthText, refreshLimit, voicemailRow, voicemailStatus,
  voicemailsPath,
} from './voicemail-format.js';

/** @typedef {import('./api.js').HistoryCall} HistoryCall */
/** @typedef {import('./api.js').HistoryPage} HistoryPage */

/** The rows shown, by call id, each with its call as last read; in the table's order. */
const shown = /** @type {Map<string, { row: HTMLElement, call: HistoryCall }>} */ (new Map());
/** The cursor of the page after the oldest call shown (null: no more). */
let nextCursor = /** @type {string | null} */ (null);
/** Each opening's (and sign-out's) number: an answer to an earlier one is dropped. */
let generation = 0;
/**
 * One load at a time, in order: a refresh merges into what the load before it showed, and
 * "Load more" appends after the last row a refresh may just have added above.
 */
let queue = Promise.resolve();
/** A refresh is waiting in the queue: the events that come meanwhile need no other. */
let refreshQueued = false;
let wired = false;

const tbody = () => $('voicemail-calls');
const moreButton = () => /** @type {HTMLButtonElement} */ ($('voicemail-more'));
const unhandledOnly = () => /** @type {HTMLInputElement} */ ($('voicemail-unhandled')).checked;
const isOpen = () => !$('voicemail-view').hidden;

/** Shows the first page afresh: the view opened, or Refresh. */
export function openVoicemail() {
  wireVoicemail();
  generation += 1;
  clearTable();
  return enqueue(() => loadPage(null));
}

/** Forgets what the view showed (signed out: the next agent sees every voicemail). */
export function resetVoicemail() {
  generation += 1;
  clearTable();
  /** @type {HTMLInputElement} */ ($('voicemail-unhandled')).checked = false;
  $('voicemail-status').textContent = '';
  showProblem(null);
}

/** Another view shows: a message playing out of sight could not be paused, so it stops now. */
export function pauseVoicemail() {
  for (const audio of tbody().querySelectorAll('audio')) audio.pause();
}

/**
 * A live event or a fresh snapshot: while the view shows, a voicemail recorded or handled by
 * anyone shows within a moment, merged into the rows in place.
 * @param {{ type: string } | null} [event] none: a snapshot (events may have been missed)
 */
export function voicemailChanged(event) {
  if (event && !VOICEMAIL_EVENTS.has(event.type)) return;
  if (!isOpen() || refreshQueued) return;
  refreshQueued = true;
  enqueue(async () => {
    refreshQueued = false;
    const page = await fetchPage(voicemailsPath(null, refreshLimit(shown.size)), 'the voicemails');
    if (!page) return;
    const first = shown.size === 0;
    merge(callsToMerge(new Set(shown.keys()), page.calls), null);
    // A first page's cursor; otherwise the one after the oldest call shown still holds.
    if (first) nextCursor = page.nextCursor;
    showCounts();
  });
}

function clearTable() {
  tbody().replaceChildren();
  shown.clear();
  nextCursor = null;
  // A refresh queued before is dropped with its generation: the next event queues another.
  refreshQueued = false;
  moreButton().hidden = true;
}

/**
 * Runs a load after those before it, unless the view was opened afresh (or left) meanwhile.
 * @param {() => Promise<void>} task
 */
function enqueue(task) {
  const mine = generation;
  queue = queue.then(() => (mine === generation ? task() : undefined)).catch((error) => {
    if (mine === generation) showProblem(`The voicemails could not be shown: ${error instanceof Error ? error.message : error}`);
  });
  return queue;
}

/**
 * A page of voicemails, or null when it failed (said above the table) or was overtaken.
 * @param {string} path
 * @param {string} what what could not be loaded, in words
 * @returns {Promise<HistoryPage | null>}
 */
async function fetchPage(path, what) {
  const mine = generation;
  const table = $('voicemail-table');
  table.setAttribute('aria-busy', 'true');
  moreButton().disabled = true;
  try {
    /** @type {HistoryPage} */
    const page = await api('GET', path);
    if (mine !== generation) return null;
    showProblem(null);
    return page;
  } catch (caught) {
    if (mine === generation) showProblem(couldNotLoad(apiError(caught), what));
    return null;
  } finally {
    if (mine === generation) {
      table.removeAttribute('aria-busy');
      moreButton().disabled = false;
    }
  }
}

/**
 * Loads a page and adds its voicemails under those shown.
 * @param {string | null} cursor null for the first page
 */
async function loadPage(cursor) {
  const page = await fetchPage(voicemailsPath(cursor), cursor ? 'more voicemails' : 'the voicemails');
  if (!page) return showCounts();
  const last = /** @type {HTMLElement | null} */ (tbody().lastElementChild);
  const added = merge(page.calls, last);
  nextCursor = page.nextCursor;
  showCounts();
  // "Load more" leaves the focus where the new voicemails start.
  if (cursor && added[0] && document.activeElement === moreButton()) added[0].focus();
}

/**
 * Puts calls (newest first) into the table: a row shown already is brought up to date where it
 * is (never moved or rebuilt, so its audio plays on); a new one goes after the row before it.
 * @param {HistoryCall[]} calls
 * @param {HTMLElement | null} after where the first new row goes: null for the top
 * @returns {HTMLElement[]} the rows added
 */
function merge(calls, after) {
  const added = [];
  let previous = after;
  for (const call of calls) {
    const known = shown.get(call.id);
    if (known) {
      known.call = call;
      fillRow(known.row, call);
      previous = known.row;
      continue;
    }
    const row = h('tr', { 'data-id': call.id, tabindex: '-1' });
    shown.set(call.id, { row, call });
    fillRow(row, call);
    if (previous) previous.after(row);
    else tbody().prepend(row);
    previous = row;
    added.push(row);
  }
  return added;
}

/**
 * A voicemail's row, built the first time; afterwards only its message (a recording ready
 * since) and its handled state (someone handled it since) change.
 * @param {HTMLElement} row
 * @param {HistoryCall} call
 */
function fillRow(row, call) {
  const words = voicemailRow(call, teamName, serverNow());
  const callerId = `voicemail-caller-${call.id}`;
  if (!row.firstChild) {
    row.append(
      h('th', { scope: 'row', 'data-column': 'caller', id: callerId },
        h('span', { class: 'history-caller', text: words.caller }),
        words.callerDetail ? h('span', { class: 'history-detail muted small', text: words.callerDetail }) : null),
      h('td', { 'data-column': 'leftAt', class: 'history-when', text: words.leftAt }),
      h('td', { 'data-column': 'slot', class: 'num', text: words.slot }),
      h('td', { 'data-column': 'parkedBy', text: words.parkedBy }),
      h('td', { 'data-column': 'length', class: 'num', text: lengthText(null) }),
      h('td', { 'data-column': 'message' }),
      h('td', { 'data-column': 'handled' }));
  }
  const message = cellOf(row, 'message');
  if (words.audio && !message.querySelector('audio')) message.replaceChildren(audioFor(row, words.audio, words.caller));
  if (!words.audio && !message.firstChild) message.replaceChildren(h('span', { class: 'muted', text: 'No message left' }));
  if (row.dataset.handled === String(Boolean(words.handled))) return;
  row.dataset.handled = String(Boolean(words.handled));
  const hadFocus = row.contains(document.activeElement);
  cellOf(row, 'handled').replaceChildren(words.handled
    ? h('span', { class: 'voicemail-handled', text: words.handled })
    : h('button', { type: 'button', class: 'btn btn-secondary btn-sm', 'data-action': 'handled', 'aria-describedby': callerId, text: 'Mark handled' }));
  row.hidden = unhandledOnly() && Boolean(words.handled);
  if (hadFocus) focusNear(row);
}

/**
 * @param {HTMLElement} row
 * @param {string} column
 */
const cellOf = (row, column) => /** @type {HTMLElement} */ (row.querySelector(`[data-column="${column}"]`));

/**
 * The message's player. Only its metadata loads with the page (`preload="metadata"`): that
 * gives its length, the rest streams when it plays.
 * @param {HTMLElement} row
 * @param {string} src
 * @param {string} caller
 */
function audioFor(row, src, caller) {
  const audio = /** @type {HTMLAudioElement} */ (h('audio', { controls: true, preload: 'metadata', 'aria-label': `Message from ${caller}` }));
  const showLength = () => { cellOf(row, 'length').textContent = lengthText(audio.duration); };
  audio.addEventListener('loadedmetadata', showLength);
  audio.addEventListener('durationchange', showLength);
  audio.addEventListener('error', async () => {
    const status = await audioStatus(src);
    cellOf(row, 'message').replaceChildren(h('span', { class: status === 404 ? 'muted' : 'field-error', text: audioProblem(status) }));
  });
  audio.src = src;
  return audio;
}

/**
 * Why the audio would not load: the element does not tell, so the endpoint is asked once more,
 * and the body (the audio, if any) dropped as soon as the status is in.
 * @param {string} src
 * @returns {Promise<number>} the HTTP status, 0 when the service could not be reached
 */
async function audioStatus(src) {
  const abort = new AbortController();
  try {
    const response = await fetch(src, { credentials: 'same-origin', cache: 'no-store', signal: abort.signal });
    return response.status;
  } catch {
    return 0;
  } finally {
    abort.abort();
  }
}

/**
 * Marks a voicemail handled by this agent; the service's answer says who did first.
 * @param {HTMLButtonElement} button
 */
async function markHandled(button) {
  const row = /** @type {HTMLElement} */ (button.closest('tr'));
  const known = shown.get(row.dataset.id || '');
  if (!known) return;
  const mine = generation;
  button.disabled = true;
  try {
    /** @type {HistoryCall} */
    const call = await api('POST', handledPath(known.call.id), { body: {} });
    if (mine !== generation) return;
    showProblem(null);
    merge([call], null);
    showCounts();
    announce(`${voicemailRow(call, teamName, serverNow()).handled}.`);
  } catch (caught) {
    if (mine !== generation) return;
    button.disabled = false;
    const caller = voicemailRow(known.call, teamName, serverNow()).caller;
    showProblem(`Could not mark the voicemail from ${caller} handled. ${sentence(apiError(caught).message)}`);
  }
}

/** "Unhandled only": the handled rows hide (the loaded ones; the service is not asked again). */
function applyFilter() {
  const only = unhandledOnly();
  for (const { row } of shown.values()) row.hidden = only && row.dataset.handled === 'true';
}

/**
 * The focus was in a row that changed (its button gave way to "Handled by …"): it stays on the
 * row, or, when the filter hides it, moves to the next row shown, else to the filter.
 * @param {HTMLElement} row
 */
function focusNear(row) {
  if (!row.hidden) return row.focus();
  const rows = [...shown.values()].map((r) => r.row);
  const next = rows.slice(rows.indexOf(row) + 1).find((r) => !r.hidden) || rows.find((r) => !r.hidden);
  (next || $('voicemail-unhandled')).focus();
}

function showCounts() {
  moreButton().hidden = !nextCursor;
  const unhandled = [...shown.values()].filter(({ row }) => row.dataset.handled !== 'true').length;
  $('voicemail-status').textContent = voicemailStatus({
    shown: shown.size, unhandled, more: Boolean(nextCursor), unhandledOnly: unhandledOnly(),
  });
}

/** @param {string | null} message */
const showProblem = (message) => showMessage('voicemail-error', message);

/** Listens to the view's controls, once. */
function wireVoicemail() {
  if (wired) return;
  wired = true;
  $('voicemail-refresh').addEventListener('click', () => openVoicemail());
  $('voicemail-unhandled').addEventListener('change', () => {
    applyFilter();
    showCounts();
  });
  moreButton().addEventListener('click', () => {
    const cursor = nextCursor;
    if (cursor) enqueue(() => loadPage(cursor));
  });
  tbody().addEventListener('click', (event) => {
    const button = /** @type {HTMLElement} */ (event.target).closest('button[data-action="handled"]');
    if (button) markHandled(/** @type {HTMLButtonElement} */ (button));
  });
  // One message at a time: playing one pauses the others ("play" does not bubble: captured).
  tbody().addEventListener('play', (event) => {
    for (const audio of tbody().querySelectorAll('audio')) if (audio !== event.target) audio.pause();
  }, true);
}
