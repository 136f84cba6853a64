// @ts-check
// The main column's views, chosen with the tabs above it: the parking lot (live, the default),
// the history and the voicemails (every agent) and the reports (supervisors only: their tab
// shows for them alone, and the service answers anyone else 403). The side column — the
// agent's call, the time-out warnings, the team — stays in every view, so a call is never out
// of sight; parking it (a drag, or Park…) brings the lot back. History, Voicemail and Reports
// load afresh each time they open.

import { $, announce } from './dom.js';
import { openHistory, resetHistory } from './history.js';
import { onReportsForbidden, openReports, resetReports } from './reports.js';
import { state } from './state.js';
import { openVoicemail, pauseVoicemail, resetVoicemail } from './voicemail.js';

/** @typedef {'lot' | 'history' | 'voicemail' | 'reports'} View */

/** Each view's sections, and the heading the focus goes to when a tab opens it. */
const VIEWS = {
  lot: { sections: ['lot-view', 'feed-panel'], heading: 'lot-heading' },
  history: { sections: ['history-view'], heading: 'history-heading' },
  voicemail: { sections: ['voicemail-view'], heading: 'voicemail-heading' },
  reports: { sections: ['reports-view'], heading: 'reports-heading' },
};

/** @type {View} */
let current = 'lot';
let wired = false;

const isSupervisor = () => Boolean(state.me && state.me.role === 'supervisor');

/**
 * Shows a view (the lot instead of Reports for anyone but a supervisor), and loads it.
 * @param {View} view
 * @param {{ focus?: boolean }} [options] focus: move the focus to its heading (a tab was pressed)
 */
export function showView(view, { focus = false } = {}) {
  wireViews();
  const shown = view === 'reports' && !isSupervisor() ? 'lot' : view;
  current = shown;
  for (const [name, { sections }] of Object.entries(VIEWS)) {
    for (const id of sections) $(id).hidden = name !== shown;
  }
  $('workspace').dataset.view = shown;
  for (const tab of document.querySelectorAll('.view-tab')) {
    if (/** @type {HTMLElement} */ (tab).dataset.view === shown) tab.setAttribute('aria-current', 'page');
    else tab.removeAttribute('aria-current');
  }
  if (shown === 'history') openHistory();
  if (shown === 'voicemail') openVoicemail();
  else pauseVoicemail();
  if (shown === 'reports') openReports();
  if (focus) $(VIEWS[shown].heading).focus();
}

/** The lot, when another view shows: parking needs its slots in sight. */
export function showLot() {
  if (current !== 'lot') showView('lot');
}

/** The Reports tab for supervisors only: called whenever the signed-in agent is (re)read. */
export function syncViews() {
  wireViews();
  $('reports-tab').hidden = !isSupervisor();
  if (current === 'reports' && !isSupervisor()) showView('lot');
}

/** Back to the lot, forgetting what History, Voicemail and Reports showed (signed out). */
export function resetViews() {
  showView('lot');
  resetHistory();
  resetVoicemail();
  resetReports();
  $('reports-tab').hidden = true;
}

/** Listens to the tabs, once. */
function wireViews() {
  if (wired) return;
  wired = true;
  for (const tab of document.querySelectorAll('.view-tab')) {
    tab.addEventListener('click', () => {
      showView(/** @type {View} */ (/** @type {HTMLElement} */ (tab).dataset.view), { focus: true });
    });
  }
  // A supervisor demoted meanwhile: the service refuses the reports, so the page stops offering them.
  onReportsForbidden(() => {
    if (state.me) state.me.role = 'agent';
    syncViews();
    announce('Reports are for the organisation’s supervisors: you are back on the parking lot.');
  });
}
