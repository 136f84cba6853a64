// @ts-check
// The supervisor's Reports view: what the calls parked in a range add up to (`GET /api/stats`),
// as figures, two charts (reports-charts.js), a table per agent and one per bucket. The range
// is whole UTC hours or days up to now (reports-format.js). Loaded afresh each time the view
// opens (views.js) and when the range changes. The service answers anyone but a supervisor 403:
// views.js then takes the view away.

import { api, apiError, serverNow } from './api.js';
import { $, h, showMessage } from './dom.js';
import { couldNotLoad } from './format.js';
import { clearCharts, drawCharts } from './reports-charts.js';
import { agentRows, bucketRows, rangeQuery, rangeText, readRange, statsPath, totalFigures } from './reports-format.js';
import { teamName } from './state.js';

/** @typedef {import('./api.js').Stats} Stats */

/** Each load's number: an answer to an earlier range (or from before a sign-out) is dropped. */
let generation = 0;
let wired = false;
/** What to do when the service says the signed-in agent may not see reports. */
let forbidden = () => {};

const rangeSelect = () => /** @type {HTMLSelectElement} */ ($('reports-range'));

/**
 * Says what to do when the service refuses the reports (403: no longer a supervisor).
 * @param {() => void} handler
 */
export function onReportsForbidden(handler) {
  forbidden = handler;
}

/** Loads the chosen range's reports and shows them. */
export async function openReports() {
  wireReports();
  const mine = ++generation;
  setStatus('Loading…');
  try {
    /** @type {Stats} */
    const stats = await api('GET', statsPath(rangeQuery(readRange(rangeSelect().value), serverNow())));
    if (mine !== generation) return;
    showProblem(null);
    showStats(stats);
    setStatus('');
    await drawCharts(stats).catch((error) => {
      if (mine === generation) showProblem(`The charts could not be drawn: ${error instanceof Error ? error.message : error}`);
    });
  } catch (caught) {
    if (mine !== generation) return;
    const error = apiError(caught);
    setStatus('');
    if (error.status === 403) forbidden();
    else showProblem(couldNotLoad(error, 'the reports'));
  }
}

/** Forgets what the view showed (signed out). */
export function resetReports() {
  generation += 1;
  clearCharts();
  rangeSelect().value = '24h';
  for (const id of ['reports-totals', 'reports-agents', 'reports-buckets']) $(id).replaceChildren();
  $('reports-range-text').textContent = '';
  $('reports-empty').hidden = true;
  setStatus('');
  showProblem(null);
}

/** @param {Stats} stats */
function showStats(stats) {
  const per = stats.bucket === 'hour' ? 'per hour' : 'per day';
  $('reports-range-text').textContent = rangeText(stats);
  $('reports-empty').hidden = stats.totals.parks > 0;
  $('outcomes-caption').textContent = `Outcomes ${per} (UTC)`;
  $('retrieve-caption').textContent = `Time to retrieve ${per} (UTC)`;
  $('reports-buckets-summary').textContent = `The figures ${per}, as a table`;
  $('reports-buckets-when').textContent = stats.bucket === 'hour' ? 'Hour (UTC)' : 'Day (UTC)';
  $('reports-totals').replaceChildren(...totalFigures(stats.totals).map((figure) =>
    h('div', { class: 'figure', 'data-figure': figure.key },
      h('dt', { text: figure.label }),
      h('dd', {}, h('span', { class: 'figure-value', text: figure.value }),
        figure.detail ? h('span', { class: 'figure-detail', text: figure.detail }) : null))));
  $('reports-agents').replaceChildren(...agentRows(stats.agents, teamName).map((row) =>
    h('tr', { 'data-agent': row.agent },
      h('th', { scope: 'row', text: row.name }),
      ...Object.entries(row.cells).map(([column, text]) => h('td', { class: 'num', 'data-column': column, text })))));
  if (stats.agents.length === 0) {
    $('reports-agents').append(h('tr', {}, h('td', { colSpan: 7, class: 'muted', text: 'Nobody parked or retrieved a call in this range.' })));
  }
  $('reports-buckets').replaceChildren(...bucketRows(stats).map((row) =>
    h('tr', { 'data-start': row.start },
      h('th', { scope: 'row', text: row.title }),
      ...row.cells.map((text) => h('td', { class: 'num', text })))));
}

/** @param {string} text */
function setStatus(text) {
  $('reports-status').textContent = text;
  $('reports-view').setAttribute('aria-busy', String(text === 'Loading…'));
}

/** @param {string | null} message */
const showProblem = (message) => showMessage('reports-error', message);

/** Listens to the view's controls, once. */
function wireReports() {
  if (wired) return;
  wired = true;
  rangeSelect().addEventListener('change', () => openReports());
  $('reports-refresh').addEventListener('click', () => openReports());
}
