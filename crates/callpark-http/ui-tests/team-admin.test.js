// @ts-check
// What the supervisor's "Manage team" section says and checks (ui/team-admin-format.js).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { adminProblem, managedLabel, readNewAgent, signInLink, sortManaged } from '../ui/team-admin-format.js';

/** @typedef {import('../ui/api.js').ManagedAgent} ManagedAgent */

/**
 * @param {Partial<ManagedAgent>} fields
 * @returns {ManagedAgent}
 */
const agent = (fields) => ({
  identity: 'dave', displayName: null, org: 'acme', status: 'offline', role: 'agent', active: true, ...fields,
});

describe('readNewAgent', () => {
  it('takes an identity, a display name and a role', () => {
    assert.deepEqual(readNewAgent({ identity: ' dave_2 ', displayName: ' Dave ', role: 'supervisor' }),
      { body: { identity: 'dave_2', displayName: 'Dave', role: 'supervisor' } });
  });
  it('leaves out an empty display name', () => {
    assert.deepEqual(readNewAgent({ identity: 'dave', displayName: '  ', role: 'agent' }),
      { body: { identity: 'dave', role: 'agent' } });
  });
  const refused = [
    ['', /Enter an identity/],
    ['da ve', /letters, digits and underscores/],
    ['dave-2', /letters, digits and underscores/],
    ['é', /letters, digits and underscores/],
    ['a'.repeat(65), /at most 64/],
  ];
  for (const [identity, problem] of refused) {
    it(`refuses the identity ${JSON.stringify(identity).slice(0, 20)}`, () => {
      const read = readNewAgent({ identity: String(identity), displayName: '', role: 'agent' });
      assert.ok('error' in read);
      assert.equal(read.field, 'identity');
      assert.match(read.error, /** @type {RegExp} */ (problem));
    });
  }
  it('takes 64 characters', () => assert.ok('body' in readNewAgent({ identity: 'a'.repeat(64), displayName: '', role: 'agent' })));
  it('refuses an unknown role', () => {
    const read = readNewAgent({ identity: 'dave', displayName: '', role: 'admin' });
    assert.ok('error' in read && read.field === 'role');
  });
});

describe('signInLink', () => {
  it('puts the token in the fragment', () => {
    assert.equal(signInLink('https://park.example.com', 'cpk_ab12'), 'https://park.example.com/#token=cpk_ab12');
  });
  it('does not double the slash', () => {
    assert.equal(signInLink('http://127.0.0.1:8080/', 'cpk_1'), 'http://127.0.0.1:8080/#token=cpk_1');
  });
});

describe('adminProblem', () => {
  it('says an identity is taken', () => {
    assert.match(adminProblem({ status: 409, code: 'agent_exists', message: 'x' }, 'add dave', 'dave'), /already an agent “dave”/);
  });
  it("says the service's message for invalid input, as a sentence", () => {
    assert.equal(adminProblem({ status: 400, code: 'invalid', message: 'displayName is too long' }, 'add dave', 'dave'),
      'Could not add dave. DisplayName is too long.');
  });
  it('says who may manage the team', () => {
    assert.match(adminProblem({ status: 403, code: 'forbidden', message: '' }, 'load the team'), /only a supervisor/);
  });
  it('says the service cannot be reached', () => {
    assert.match(adminProblem({ status: 0, code: 'network', message: '' }, 'deactivate Dave', 'dave'), /cannot be reached/);
  });
});

describe('managedLabel', () => {
  it('names the agent and their status', () => {
    assert.deepEqual(managedLabel(agent({ displayName: 'Dave', status: 'available' })), { name: 'Dave', state: 'Available', pill: 'available' });
    assert.deepEqual(managedLabel(agent({ status: 'on_call' })), { name: 'dave', state: 'On a call', pill: 'on_call' });
  });
  it('says a deactivated agent is deactivated, whatever their status', () => {
    assert.deepEqual(managedLabel(agent({ active: false, status: 'available' })), { name: 'dave', state: 'Deactivated', pill: 'deactivated' });
  });
});

describe('sortManaged', () => {
  it('lists the active agents first, by name', () => {
    const list = [agent({ identity: 'zed', active: false }), agent({ identity: 'bob' }), agent({ identity: 'amy', displayName: 'Zoe' }), agent({ identity: 'carl' })];
    assert.deepEqual(sortManaged(list).map((a) => a.identity), ['bob', 'carl', 'amy', 'zed']);
  });
});
