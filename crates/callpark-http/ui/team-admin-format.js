// @ts-check
// What the supervisor's "Manage team" section says and checks: the new agent's form, the
// sign-in link, the errors of the admin API in words, the list's order. No DOM: node's test
// runner imports it (crates/callpark-http/ui-tests/).

import { STATUS_LABELS } from './format.js';

/** @typedef {import('./api.js').ManagedAgent} ManagedAgent */
/** @typedef {import('./api.js').Role} Role */

/** The roles a supervisor can give, in the order the selects offer them. */
export const ROLES = /** @type {const} */ (['agent', 'supervisor']);

/** @type {Record<Role, string>} */
export const ROLE_LABELS = { agent: 'Agent', supervisor: 'Supervisor' };

/** An identity as the service takes it: letters, digits and underscores, 1 to 64 of them. */
const IDENTITY = /^[A-Za-z0-9_]{1,64}$/;

/**
 * The add-agent form's fields, checked as the service will: the request's body, or what is
 * wrong in words (and which field).
 * @param {{ identity: string, displayName: string, role: string }} fields
 * @returns {{ body: { identity: string, displayName?: string, role: Role } } | { error: string, field: 'identity' | 'displayName' | 'role' }}
 */
export function readNewAgent(fields) {
  const identity = fields.identity.trim();
  if (!identity) return { error: 'Enter an identity for the new agent.', field: 'identity' };
  if (identity.length > 64) return { error: 'An identity is at most 64 characters.', field: 'identity' };
  if (!IDENTITY.test(identity)) {
    return { error: 'An identity may only have letters, digits and underscores (_), without spaces.', field: 'identity' };
  }
  const role = /** @type {Role} */ (fields.role);
  if (!ROLES.includes(role)) return { error: 'Choose a role: agent or supervisor.', field: 'role' };
  const displayName = fields.displayName.trim();
  return { body: displayName ? { identity, displayName, role } : { identity, role } };
}

/**
 * The link that signs the new agent in: the page's address with the token in the fragment
 * (token.js reads it, and the page takes it out of the address bar).
 * @param {string} origin e.g. `https://park.example.com`
 * @param {string} token
 */
export function signInLink(origin, token) {
  return `${origin.replace(/\/+$/, '')}/#token=${encodeURIComponent(token)}`;
}

/**
 * A failed admin request in words.
 * @param {{ status: number, code: string, message: string }} error the ApiError
 * @param {string} doing what was being done, e.g. "add dave"
 * @param {string} [identity] the agent concerned
 */
export function adminProblem(error, doing, identity) {
  const who = identity ? `“${identity}”` : 'that agent';
  if (error.code === 'agent_exists' || error.status === 409) {
    return `There is already an agent ${who} in this organisation: choose another identity.`;
  }
  if (error.status === 403) return `Could not ${doing}: only a supervisor of this organisation may manage its team.`;
  if (error.status === 404) return `Could not ${doing}: ${who} is not in this organisation (any more).`;
  if (error.status === 0) return `Could not ${doing}: the service cannot be reached. Check your connection and try again.`;
  const message = error.message.trim().replace(/[.!?]*$/, '.');
  const sentence = message.charAt(0).toUpperCase() + message.slice(1);
  return `Could not ${doing}. ${sentence}`;
}

/**
 * How an agent shows in the list: their name, and their state in words.
 * @param {ManagedAgent} agent
 */
export function managedLabel(agent) {
  return {
    name: agent.displayName || agent.identity,
    state: agent.active ? STATUS_LABELS[agent.status] || agent.status : 'Deactivated',
    pill: agent.active ? agent.status : 'deactivated',
  };
}

/**
 * The list's order: active agents first, then by name.
 * @param {ManagedAgent[]} agents
 * @returns {ManagedAgent[]}
 */
export function sortManaged(agents) {
  const name = (/** @type {ManagedAgent} */ a) => (a.displayName || a.identity).toLocaleLowerCase();
  return [...agents].sort((a, b) => Number(b.active) - Number(a.active) || name(a).localeCompare(name(b)));
}
