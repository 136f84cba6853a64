// @ts-check
// The supervisor's "Manage team" section: the organisation's agents (GET /admin/orgs/{org}/agents,
// fetched again whenever the live stream says a status changed), adding one (its sign-in link
// shown once), changing a role, deactivating (asked first). Shown to supervisors only: the
// service answers 403 to anyone else. The lot's settings (org-settings.js) show and hide with it.

import { api, apiError } from './api.js';
import { $, announce, h } from './dom.js';
import { hideOrgSettings, showOrgSettings } from './org-settings.js';
import { ROLES, ROLE_LABELS, adminProblem, managedLabel, readNewAgent, signInLink, sortManaged } from './team-admin-format.js';
import { state } from './state.js';

/** @typedef {import('./api.js').IssuedToken} IssuedToken */
/** @typedef {import('./api.js').ManagedAgent} ManagedAgent */
/** @typedef {import('./api.js').Role} Role */

/** The organisation's agents as last fetched, by identity. */
let agents = /** @type {Map<string, ManagedAgent>} */ (new Map());
/** The agent the deactivation question is about. */
let asked = '';
let wired = false;

const isSupervisor = () => Boolean(state.me && state.me.role === 'supervisor');
/** @param {string} [identity] */
const agentsPath = (identity) => {
  const base = `/admin/orgs/${encodeURIComponent(state.me ? state.me.org : '')}/agents`;
  return identity === undefined ? base : `${base}/${encodeURIComponent(identity)}`;
};
/** @param {string} identity */
const nameOf = (identity) => {
  const agent = agents.get(identity);
  return (agent && agent.displayName) || identity;
};

/** Shows the section when the signed-in agent is a supervisor (hides it otherwise), and fills it. */
export function syncTeamAdmin() {
  wireTeamAdmin();
  const show = isSupervisor();
  const section = $('team-admin');
  if (!show) {
    hideTeamAdmin();
    return;
  }
  if (section.hidden) {
    section.hidden = false;
    refreshTeamAdmin();
  }
  showOrgSettings();
}

/** Hides the section and forgets what it showed (signed out, or no longer a supervisor). */
export function hideTeamAdmin() {
  $('team-admin').hidden = true;
  agents = new Map();
  $('admin-agents').replaceChildren();
  hideLink();
  const dialog = /** @type {HTMLDialogElement} */ ($('deactivate-dialog'));
  if (dialog.open) dialog.close();
  hideOrgSettings();
}

/** @type {Promise<void> | null} */
let inFlight = null;
let again = false;

/**
 * GET /admin/orgs/{org}/agents, coalesced: asked for while one runs, it runs once more after it.
 * @returns {Promise<void>}
 */
export function refreshTeamAdmin() {
  if (!isSupervisor() || $('team-admin').hidden) return Promise.resolve();
  if (inFlight) {
    again = true;
    return inFlight;
  }
  inFlight = (async () => {
    do {
      again = false;
      try {
        /** @type {ManagedAgent[]} */
        const list = await api('GET', agentsPath());
        if (!isSupervisor()) return;
        agents = new Map(list.map((a) => [a.identity, a]));
        listError(null);
      } catch (caught) {
        const error = apiError(caught);
        if (error.status === 403) hideTeamAdmin();
        else if (error.status !== 401) listError(adminProblem(error, 'load the team'));
        return;
      }
    } while (again);
    renderTeamAdmin();
  })().finally(() => {
    inFlight = null;
  });
  return inFlight;
}

/** @param {string | null} message */
function listError(message) {
  const el = $('admin-error');
  el.hidden = !message;
  el.textContent = message || '';
}

/** The list, keeping the focus on the control it was on (the list is rebuilt on each update). */
function renderTeamAdmin() {
  const active = /** @type {HTMLElement | null} */ (document.activeElement);
  const focusKey = active && $('admin-agents').contains(active) ? active.dataset.key : undefined;
  const rows = sortManaged([...agents.values()]).map(agentRow);
  $('admin-agents').replaceChildren(...rows);
  if (focusKey) {
    const again = /** @type {HTMLElement | null} */ ($('admin-agents').querySelector(`[data-key="${CSS.escape(focusKey)}"]`));
    if (again) again.focus();
  }
}

/**
 * One agent's row: name, state, a role select, and Deactivate (not for oneself).
 * @param {ManagedAgent} agent
 */
function agentRow(agent) {
  const label = managedLabel(agent);
  const mine = Boolean(state.me && agent.identity === state.me.identity);
  const select = /** @type {HTMLSelectElement} */ (h('select', {
    class: 'admin-role', 'aria-label': `Role of ${label.name}`, 'data-key': `role:${agent.identity}`, disabled: !agent.active,
  }, ...ROLES.map((role) => h('option', { value: role, selected: role === agent.role, text: ROLE_LABELS[role] }))));
  select.addEventListener('change', () => changeRole(agent.identity, /** @type {Role} */ (select.value), select));
  const action = agent.active && !mine
    ? h('button', {
      type: 'button', class: 'btn btn-ghost btn-sm admin-deactivate', 'aria-label': `Deactivate ${label.name}`,
      'data-key': `deactivate:${agent.identity}`, text: 'Deactivate', onclick: () => askDeactivate(agent.identity),
    })
    : null;
  return h('tr', { 'data-identity': agent.identity, 'data-active': String(agent.active), 'data-status': label.pill },
    h('th', { scope: 'row', class: 'admin-name' },
      h('span', { text: label.name + (mine ? ' (you)' : '') }),
      agent.displayName ? h('span', { class: 'admin-identity muted small', text: agent.identity }) : null),
    h('td', {}, h('span', { class: `pill pill--${label.pill}`, text: label.state })),
    h('td', {}, select),
    h('td', { class: 'admin-actions' }, action),
  );
}

/**
 * PATCHes an agent's role; puts the select back when the service refuses.
 * @param {string} identity
 * @param {Role} role
 * @param {HTMLSelectElement} select
 */
async function changeRole(identity, role, select) {
  const before = agents.get(identity);
  listError(null);
  try {
    /** @type {ManagedAgent} */
    const updated = await api('PATCH', agentsPath(identity), { body: { role } });
    agents.set(identity, { ...(before || updated), ...updated });
    announce(`${nameOf(identity)} is now ${role === 'supervisor' ? 'a supervisor' : 'an agent'}.`);
    if (state.me && identity === state.me.identity) state.me.role = role;
  } catch (caught) {
    if (before) select.value = before.role;
    listError(adminProblem(apiError(caught), `change the role of ${nameOf(identity)}`, identity));
  }
  if (!isSupervisor()) hideTeamAdmin();
  else renderTeamAdmin();
}

/** @param {string} identity */
function askDeactivate(identity) {
  asked = identity;
  const name = nameOf(identity);
  $('deactivate-title').textContent = `Deactivate ${name}?`;
  $('deactivate-confirm').textContent = `Deactivate ${name}`;
  const dialog = /** @type {HTMLDialogElement} */ ($('deactivate-dialog'));
  if (!dialog.open) dialog.showModal();
  $('deactivate-cancel').focus();
}

/** @param {string} identity */
async function deactivate(identity) {
  listError(null);
  const name = nameOf(identity);
  try {
    await api('DELETE', agentsPath(identity));
    const agent = agents.get(identity);
    if (agent) agents.set(identity, { ...agent, active: false, status: 'offline' });
    renderTeamAdmin();
    announce(`${name} is deactivated: signed out, and no call rings them.`);
    $('admin-list-heading').setAttribute('tabindex', '-1');
    $('admin-list-heading').focus();
    refreshTeamAdmin();
  } catch (caught) {
    listError(adminProblem(apiError(caught), `deactivate ${name}`, identity));
  }
}

/** @param {string} identity the agent whose row gets the focus back */
function backToRow(identity) {
  const button = /** @type {HTMLElement | null} */ ($('admin-agents').querySelector(`[data-key="${CSS.escape(`deactivate:${identity}`)}"]`));
  if (button) button.focus();
}

function wireDeactivateDialog() {
  const dialog = /** @type {HTMLDialogElement} */ ($('deactivate-dialog'));
  $('deactivate-cancel').addEventListener('click', () => {
    dialog.close();
    backToRow(asked);
  });
  dialog.addEventListener('cancel', () => setTimeout(() => backToRow(asked), 0));
  $('deactivate-confirm').addEventListener('click', () => {
    dialog.close();
    deactivate(asked);
  });
}

/** @param {string} id */
const field = (id) => /** @type {HTMLInputElement} */ ($(id));

/**
 * The add-agent form's problem, on its field; null clears it.
 * @param {string | null} message
 * @param {string} [fieldId]
 */
function formError(message, fieldId) {
  const el = $('add-agent-error');
  el.hidden = !message;
  el.textContent = message || '';
  for (const id of ['new-identity', 'new-display-name', 'new-role']) field(id).removeAttribute('aria-invalid');
  if (message && fieldId) {
    field(fieldId).setAttribute('aria-invalid', 'true');
    field(fieldId).focus();
  }
}

async function addAgent() {
  const read = readNewAgent({
    identity: field('new-identity').value, displayName: field('new-display-name').value, role: field('new-role').value,
  });
  if ('error' in read) {
    formError(read.error, { identity: 'new-identity', displayName: 'new-display-name', role: 'new-role' }[read.field]);
    return;
  }
  formError(null);
  const submit = /** @type {HTMLButtonElement} */ ($('add-agent-submit'));
  submit.disabled = true;
  try {
    /** @type {IssuedToken} */
    const issued = await api('POST', agentsPath(), { body: read.body });
    /** @type {HTMLFormElement} */ ($('add-agent-form')).reset();
    showLink(issued, read.body.displayName || issued.identity);
    refreshTeamAdmin();
  } catch (caught) {
    const error = apiError(caught);
    formError(adminProblem(error, `add ${read.body.identity}`, read.body.identity), error.status === 409 || error.status === 400 ? 'new-identity' : undefined);
  } finally {
    submit.disabled = false;
  }
}

/**
 * The new agent's sign-in link, this once (the service keeps only a hash of its token).
 * @param {IssuedToken} issued
 * @param {string} name
 */
function showLink(issued, name) {
  const link = signInLink(window.location.origin, issued.token);
  $('new-link-heading').textContent = `Sign-in link for ${name}`;
  $('new-link-label').textContent = `Sign-in link for ${name}`;
  field('new-link-value').value = link;
  $('new-link-status').textContent = '';
  $('new-link').hidden = false;
  $('new-link-heading').focus();
  announce(`${name} is added. Copy their sign-in link now: it is shown only once.`);
}

function hideLink() {
  field('new-link-value').value = '';
  $('new-link-status').textContent = '';
  $('new-link').hidden = true;
}

async function copyLink() {
  const input = field('new-link-value');
  try {
    await navigator.clipboard.writeText(input.value);
    $('new-link-status').textContent = 'Copied.';
  } catch {
    input.focus();
    input.select();
    $('new-link-status').textContent = 'Could not copy: the link is selected, press Ctrl+C (⌘C) to copy it.';
  }
}

/** Listens to the section's controls, once. */
function wireTeamAdmin() {
  if (wired) return;
  wired = true;
  $('add-agent-form').addEventListener('submit', (event) => {
    event.preventDefault();
    addAgent();
  });
  $('new-link-copy').addEventListener('click', copyLink);
  $('new-link-done').addEventListener('click', () => {
    hideLink();
    field('new-identity').focus();
  });
  wireDeactivateDialog();
}
