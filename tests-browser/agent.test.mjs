// The agent's own page (issue 18): no caller lost by a click, what happened in words, the
// agent's own call, feedback that does not move the page. Headless Chromium against the real
// callpark binary in sandbox mode (scripts/test-browser.sh).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import {
  LIVE_MS, api, callFor, hangUp, launchBrowser, openAgent, pageProblems, screenshot, slot,
  waitAvailable, waitSlotCaller, waitSlotState,
} from './helpers.mjs';

let browser;
/** Signed-in pages, one browser context (so one session cookie) each. */
const agents = {};

/** Every caller still in the lot hangs up, and the agents are free again. */
async function emptyLot() {
  const lot = await api('alice', 'GET', '/api/lot');
  for (const s of lot.slots) if (s.call) await hangUp(s.call.pstnCallSid);
  for (const name of ['alice', 'bob', 'carol']) {
    const me = await api(name, 'GET', '/api/me');
    if (me.currentCall) await hangUp(me.currentCall.pstnCallSid);
  }
}

/** Bob answers a caller and parks it in `n`; returns the caller, once Alice's page shows it. */
async function bobParks(n) {
  const call = await callFor('bob');
  await api('bob', 'POST', '/api/park', { callSid: call.callSid, slot: n });
  await waitSlotCaller(agents.alice.page, n, call.callerNumber);
  return call;
}

before(async () => {
  browser = await launchBrowser();
  agents.alice = await openAgent('alice');
  agents.bob = await openAgent('bob');
});

after(async () => {
  await emptyLot();
  if (browser) await browser.close();
});

test('retrieving while on a call is refused, and "Park my current call and retrieve" swaps the callers', async () => {
  const { page } = agents.alice;
  const parked = await bobParks(3);
  // A caller reaches Alice while her page does not know yet (no lot event tells it).
  const mine = await callFor('alice');
  assert.equal(await slot(page, 3).getByRole('button', { name: /^Retrieve/ }).count(), 1);

  await slot(page, 3).getByRole('button', { name: /^Retrieve/ }).click();
  const offer = page.getByRole('button', { name: 'Park my current call and retrieve', exact: true });
  await offer.waitFor({ timeout: 2000 });
  assert.match(await page.locator('#alert-text').textContent(), /You are on a call, so slot 3 stays parked/);
  // The service moved nobody: slot 3 still holds Bob's caller, Alice still has hers.
  const refused = await api('alice', 'GET', '/api/lot');
  assert.equal(refused.slots.find((s) => s.slot === 3).call.pstnCallSid, parked.pstnCallSid);
  assert.equal((await api('alice', 'GET', '/api/me')).currentCall.pstnCallSid, mine.pstnCallSid);
  await screenshot(page, 'agent-busy');

  await offer.click();
  // Her caller waits in the first free slot; Bob's caller is with her.
  await waitSlotCaller(page, 1, mine.callerNumber, 2000);
  await waitSlotState(page, 1, 'parked');
  await page.locator(`#call-card[data-caller-number="${parked.callerNumber}"]`).waitFor({ timeout: 2000 });
  await waitSlotState(page, 3, 'free');
  const lot = await api('alice', 'GET', '/api/lot');
  assert.equal(lot.slots.find((s) => s.slot === 1).call.pstnCallSid, mine.pstnCallSid);
  const me = await api('alice', 'GET', '/api/me');
  assert.equal(me.currentCall.pstnCallSid, parked.pstnCallSid);
  assert.equal(await page.locator('#alert').isVisible(), false);
});

test('on a call, Retrieve offers the swap at once, and signing out asks first and parks the call', async () => {
  const { page } = agents.alice;
  const onCall = (await api('alice', 'GET', '/api/me')).currentCall;
  assert.ok(onCall, 'Alice is on the call the previous test gave her');
  await slot(page, 1).getByRole('button', { name: /^Park my current call and retrieve .* from slot 1$/ }).waitFor({ timeout: LIVE_MS });

  // Changing her mind keeps everything as it was.
  await page.getByRole('button', { name: 'Sign out' }).click();
  const dialog = page.getByRole('dialog', { name: 'You are on a call' });
  await dialog.waitFor({ timeout: 2000 });
  await screenshot(page, 'sign-out-on-a-call');
  await dialog.getByRole('button', { name: 'Stay signed in' }).click();
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await page.locator('#conn[data-state="live"]').count(), 1);
  assert.equal((await api('alice', 'GET', '/api/me')).currentCall.pstnCallSid, onCall.pstnCallSid);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await dialog.getByRole('button', { name: 'Park the call and sign out' }).click();
  await page.getByLabel('Agent token').waitFor({ timeout: 2000 });
  // The caller was parked (slot 2, the first free one), not dropped.
  const lot = await api('bob', 'GET', '/api/lot');
  const kept = lot.slots.find((s) => s.call && s.call.pstnCallSid === onCall.pstnCallSid);
  assert.ok(kept, 'the caller is in the lot');
  assert.equal(kept.slot, 2);
  assert.equal((await api('bob', 'GET', '/api/agents')).find((a) => a.identity === 'alice').status, 'offline');

  await agents.alice.context.close();
  await emptyLot();
  agents.alice = await openAgent('alice');
  await waitAvailable('alice');
});

test('no page had a script error or a Content-Security-Policy violation', () => {
  assert.deepEqual(pageProblems, []);
});
