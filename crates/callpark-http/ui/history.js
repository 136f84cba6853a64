// @ts-check
// The History view, for every agent: the organisation's parked calls, newest first, a page at a
// time (`GET /api/history`; "Load more" follows the page's `nextCursor`), filtered by outcome,
// and "Download CSV": a plain link to `GET /api/history.csv` with the same filter, which the
// session cookie signs in. Loaded afresh each time the view opens (views.js).

import { api, apiError } from './api.js';
import { $, h, showMessage } from './dom.js';
import { couldNotLoad } from './format.js';
import { csvPath, historyPath, historyRow, historyStatus, readOutcome } from './history-format.js';
import { teamName } from './state.js';

/** @typedef {import('./api.js').HistoryCall} HistoryCall */
/** @typedef {import('./api.js').HistoryPage} HistoryPage */

/** How many calls the table shows, and the cursor of the page after them (null: no more). */
let shown = 0;
let nextCursor = /** @type {string | null} */ (null);
/**
 * Each load's number. A page that answers after the filter changed (or after a sign-out) is
 * dropped: its cursor belongs to the old filter, and its calls to the old table.
 */
let generation = 0;
let wired = false;

const outcomeSelect = () => /** @type {HTMLSelectElement} */ ($('history-outcome'));
const moreButton = () => /** @type {HTMLButtonElement} */ ($('history-more'));

/** Shows the first page afresh: the view opened, the filter changed, or Refresh. */
export function openHistory() {
  wireHistory();
  clearTable();
  const outcome = readOutcome(outcomeSelect().value);
  /** @type {HTMLAnchorElement} */ ($('history-csv')).href = csvPath(outcome);
  return loadPage(null);
}

/** Forgets what the view showed (signed out: the next agent starts from all calls). */
export function resetHistory() {
  generation += 1;
  clearTable();
  outcomeSelect().value = '';
  /** @type {HTMLAnchorElement} */ ($('history-csv')).href = csvPath('');
  $('history-status').textContent = '';
  showProblem(null);
}

function clearTable() {
  $('history-calls').replaceChildren();
  shown = 0;
  nextCursor = null;
  moreButton().hidden = true;
}

/**
 * Loads a page and adds its calls under those shown.
 * @param {string | null} cursor null for the first page
 */
async function loadPage(cursor) {
  const mine = ++generation;
  const outcome = readOutcome(outcomeSelect().value);
  const table = $('history-table');
  table.setAttribute('aria-busy', 'true');
  moreButton().disabled = true;
  try {
    /** @type {HistoryPage} */
    const page = await api('GET', historyPath(outcome, cursor));
    if (mine !== generation) return;
    const rows = page.calls.map(callRow);
    $('history-calls').append(...rows);
    shown += rows.length;
    nextCursor = page.nextCursor;
    showProblem(null);
    // "Load more" leaves the focus where the new calls start, for the keyboard and screen readers.
    if (cursor && rows.length > 0 && document.activeElement === moreButton()) rows[0].focus();
  } catch (caught) {
    if (mine !== generation) return;
    showProblem(couldNotLoad(apiError(caught), cursor ? 'more calls' : 'the history'));
  } finally {
    if (mine === generation) {
      table.removeAttribute('aria-busy');
      moreButton().disabled = false;
    }
  }
  if (mine !== generation) return;
  moreButton().hidden = !nextCursor;
  $('history-status').textContent = historyStatus({ shown, more: Boolean(nextCursor), outcome });
}

/**
 * One call's row: when it was parked heads it; every cell says its column in `data-column`.
 * @param {HistoryCall} call
 */
function callRow(call) {
  const { cells } = historyRow(call, teamName);
  /** @param {keyof typeof cells} column @param {string} [extra] */
  const cell = (column, extra) => h('td', { 'data-column': column, class: extra, text: cells[column] });
  return h('tr', { 'data-id': call.id, 'data-outcome': call.outcome, tabindex: '-1' },
    h('th', { scope: 'row', 'data-column': 'parkedAt', class: 'history-when', text: cells.parkedAt }),
    cell('slot', 'num'),
    h('td', { 'data-column': 'caller' },
      h('span', { class: 'history-caller', text: cells.caller }),
      cells.callerDetail ? h('span', { class: 'history-detail muted small', text: cells.callerDetail }) : null),
    cell('parkedBy'),
    cell('retrievedBy'),
    h('td', { 'data-column': 'outcome' }, h('span', { class: `pill pill--outcome-${call.outcome}`, text: cells.outcome })),
    cell('onHold', 'num'),
    cell('ringbacks', 'num'),
    cell('voicemail'),
  );
}

/** @param {string | null} message */
const showProblem = (message) => showMessage('history-error', message);

/** Listens to the view's controls, once. */
function wireHistory() {
  if (wired) return;
  wired = true;
  outcomeSelect().addEventListener('change', () => openHistory());
  $('history-refresh').addEventListener('click', () => openHistory());
  moreButton().addEventListener('click', () => {
    if (nextCursor) loadPage(nextCursor);
  });
}
