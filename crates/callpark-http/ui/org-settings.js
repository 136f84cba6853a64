// @ts-check
// The supervisor's "Lot settings" panel: the organisation's settings (GET /admin/orgs/{org}) in
// a form, loaded each time the panel opens; Save PATCHes only what changed, then shows the
// settings as the service returned them (and the lot at its new size). Shown and hidden with
// "Manage team" (team-admin.js), to supervisors only.

import { api, apiError } from './api.js';
import { $ } from './dom.js';
import { SETTINGS_FIELDS, formValues, problemField, settingsChange, settingsProblem, settingsSummary } from './org-settings-format.js';
import { render } from './render.js';
import { state } from './state.js';

/** @typedef {import('./api.js').OrgSettings} OrgSettings */
/** @typedef {import('./org-settings-format.js').SettingsField} SettingsField */
/** @typedef {import('./org-settings-format.js').SettingsForm} SettingsForm */
/** @typedef {HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement} Control */

/** @type {Record<SettingsField, string>} the form's control of each setting */
const CONTROLS = {
  name: 'set-name',
  slots: 'set-slots',
  maxParkSeconds: 'set-max-park',
  timeoutAction: 'set-timeout-action',
  slotPolicy: 'set-slot-policy',
  numbers: 'set-numbers',
  announcement: 'set-announcement',
  holdMusicUrl: 'set-hold-music',
  voice: 'set-voice',
  language: 'set-language',
};

/** @type {OrgSettings | null} the settings as the service last said they are */
let loaded = null;
let saving = false;
let wired = false;
/** Counts openings: an answer for a panel closed (or opened again) since is dropped. */
let generation = 0;

const orgPath = () => `/admin/orgs/${encodeURIComponent(state.me ? state.me.org : '')}`;
/** @param {SettingsField} field */
const control = (field) => /** @type {Control} */ ($(CONTROLS[field]));
/** @param {boolean} enabled */
const setEnabled = (enabled) => {
  /** @type {HTMLFieldSetElement} */ ($('settings-fields')).disabled = !enabled;
};
/**
 * The form's status beside Save: "Loading…", "Saving…", "Saved." (`done`), or nothing.
 * @param {string} text
 * @param {'busy' | 'done'} [kind]
 */
const status = (text, kind = 'busy') => {
  const el = $('settings-status');
  el.textContent = text;
  el.dataset.kind = kind;
};

/** Shows the panel, and loads the settings when it was hidden. */
export function showOrgSettings() {
  wireOrgSettings();
  const section = $('org-settings');
  if (!section.hidden) return;
  section.hidden = false;
  loadOrgSettings();
}

/** Hides the panel and forgets what it showed (signed out, or no longer a supervisor). */
export function hideOrgSettings() {
  generation += 1;
  loaded = null;
  $('org-settings').hidden = true;
  /** @type {HTMLFormElement} */ ($('settings-form')).reset();
  setEnabled(false);
  $('settings-summary').textContent = '';
  $('settings-retry').hidden = true;
  status('');
  showProblem(null);
}

/** GET /admin/orgs/{org}: the form's values, and what Save compares them with. */
async function loadOrgSettings() {
  const mine = ++generation;
  loaded = null;
  setEnabled(false);
  showProblem(null);
  $('settings-retry').hidden = true;
  status('Loading…');
  try {
    /** @type {OrgSettings} */
    const org = await api('GET', orgPath());
    if (mine !== generation) return;
    showSettings(org);
    status('');
  } catch (caught) {
    if (mine !== generation) return;
    status('');
    showProblem(settingsProblem(apiError(caught), 'load'));
    $('settings-retry').hidden = false;
  }
}

/**
 * The settings as the service said they are, in the form and the summary.
 * @param {OrgSettings} org
 */
function showSettings(org) {
  loaded = org;
  const values = formValues(org);
  for (const field of SETTINGS_FIELDS) control(field).value = values[field];
  $('settings-summary').textContent = settingsSummary(org);
  setEnabled(true);
}

/** @returns {SettingsForm} */
function readForm() {
  /** @type {Record<string, string>} */
  const values = {};
  for (const field of SETTINGS_FIELDS) values[field] = control(field).value;
  return /** @type {SettingsForm} */ (values);
}

/** Save: PATCHes what changed; on a refusal, says why and keeps what was typed. */
async function saveOrgSettings() {
  if (!loaded || saving) return;
  const change = settingsChange(loaded, readForm());
  if ('error' in change) {
    status('');
    showProblem(change.error, change.field);
    return;
  }
  showProblem(null);
  if (Object.keys(change.body).length === 0) {
    status('No changes to save.');
    return;
  }
  const mine = generation;
  const save = $('settings-save');
  saving = true;
  save.setAttribute('aria-disabled', 'true');
  status('Saving…');
  try {
    /** @type {OrgSettings} */
    const org = await api('PATCH', orgPath(), { body: change.body });
    if (mine !== generation) return;
    showSettings(org);
    status('Saved.', 'done');
    followSettings(org);
  } catch (caught) {
    if (mine !== generation) return;
    const error = apiError(caught);
    status('');
    showProblem(settingsProblem(error, 'save'), problemField(error));
  } finally {
    saving = false;
    save.removeAttribute('aria-disabled');
  }
}

/**
 * What the rest of the page takes from the new settings: the lot's size (the live stream sends
 * no event for it) and what a time-out does (the warnings).
 * @param {OrgSettings} org
 */
function followSettings(org) {
  let changed = state.lot.resize(org.slots);
  if (state.me && state.me.timeoutAction !== org.timeoutAction) {
    state.me.timeoutAction = org.timeoutAction;
    changed = true;
  }
  if (changed) render();
}

/**
 * The form's problem, in the alert under it and on its field (focused); null clears it.
 * @param {string | null} message
 * @param {SettingsField} [field]
 */
function showProblem(message, field) {
  const el = $('settings-error');
  el.hidden = !message;
  el.textContent = message || '';
  for (const f of SETTINGS_FIELDS) {
    const c = control(f);
    c.removeAttribute('aria-invalid');
    describedByError(c, false);
  }
  if (message && field) {
    const c = control(field);
    c.setAttribute('aria-invalid', 'true');
    describedByError(c, true);
    c.focus();
  }
}

/**
 * Adds the error to (or takes it out of) what describes a control.
 * @param {Control} c
 * @param {boolean} on
 */
function describedByError(c, on) {
  const ids = (c.getAttribute('aria-describedby') || '').split(/\s+/).filter((id) => id && id !== 'settings-error');
  if (on) ids.push('settings-error');
  if (ids.length) c.setAttribute('aria-describedby', ids.join(' '));
  else c.removeAttribute('aria-describedby');
}

/** Listens to the panel's controls, once. */
function wireOrgSettings() {
  if (wired) return;
  wired = true;
  $('settings-form').addEventListener('submit', (event) => {
    event.preventDefault();
    saveOrgSettings();
  });
  // "Saved." is about the values as saved: typing again makes it stale.
  $('settings-form').addEventListener('input', () => {
    if (!saving) status('');
  });
  $('settings-retry').addEventListener('click', async () => {
    await loadOrgSettings();
    // The button hides as the load starts: the focus goes on to the form, or back to it.
    if (loaded) control('name').focus();
    else if (!$('org-settings').hidden) $('settings-retry').focus();
  });
}
