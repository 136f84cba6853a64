// The sandbox's "When the sandbox rings me:" (Answer / Decline / Let it ring), driven from the
// page: what an agent's simulated browser does when a retrieve or a ring-back rings it alone.
// Bob declines a retrieve: the caller goes back to the same slot and nobody is on the call;
// answering again, his retrieve connects. Alice, who supervises the demo organisation, makes
// its hold time 3 s and declines her ring-back: the call goes to voicemail and the slot frees.
// Bob lets a retrieve ring (meanwhile the ring-back test runs): the slot is being retrieved
// for the whole ring time (CALLPARK_RING_SECS, 20 s by default, and the 5 s Twilio adds), then
// the caller is back in the slot. The demo organisation is shared by every test file: its hold
// time and every agent's choice are put back (180 s, answer) at the end.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import {
  LIVE_MS, api, hangUp, launchBrowser, openAgent, pageProblems, parkFor, screenshot, slot,
  waitAvailable, waitSlotCaller, waitSlotState,
} from './helpers.mjs';

/** How long a browser left to ring rings: the service's ring time and Twilio's 5 s more. */
const RING_MS = (Number(process.env.CALLPARK_RING_SECS || 20) + 5) * 1000;
const HOLD_S = 3;
const PICKUP = '/api/sandbox/pickup';

let browser;
const agents = {};
/** The demo organisation's hold time before the tests, to put back after. */
let originalHold;
/** The slot of the call bob declines. */
const declined = {};
/** The call bob lets ring: its slot, its caller, and when his retrieve started. */
const ringing = {};

/** The free slots of the demo lot, as the service has them. */
async function freeSlots() {
  const lot = await api('alice', 'GET', '/api/lot');
  return lot.slots.filter((s) => s.state === 'free').map((s) => s.slot);
}

/** The agent's "When the sandbox rings me:" group, loaded (enabled). */
async function pickupGroup(page) {
  const group = page.getByRole('group', { name: 'When the sandbox rings me:' });
  await group.waitFor({ timeout: 3000 });
  await page.locator('#pickup:not([disabled])').waitFor({ timeout: 3000 });
  return group;
}

/** Chooses `label` on the page and waits until the service saved `pickup`. */
async function choose(page, label, pickup) {
  const group = await pickupGroup(page);
  const saved = page.waitForResponse((r) => r.url().endsWith(PICKUP) && r.request().method() === 'POST', { timeout: 3000 });
  await group.getByLabel(label, { exact: true }).check();
  const response = await saved;
  assert.equal(response.status(), 200);
  assert.deepEqual(response.request().postDataJSON(), { pickup });
  await page.locator('#pickup-status', { hasText: /^Saved: / }).waitFor({ timeout: 2000 });
}

/** The agent's page simulates an inbound call and parks it with "Park…" in slot `n`; its number. */
async function simulateAndPark(page, n) {
  await page.getByRole('button', { name: 'Simulate incoming call' }).click();
  const card = page.locator('#call-card[data-caller-number]');
  await card.waitFor({ timeout: 3000 });
  const number = await card.getAttribute('data-caller-number');
  await page.getByRole('button', { name: 'Park…' }).click();
  await page.getByRole('button', { name: `Park in slot ${n}` }).click();
  await waitSlotState(page, n, 'parked', 3000);
  await waitSlotCaller(page, n, number);
  return number;
}

/** A line of the page's activity feed. */
const feedLine = (page, text) => page.locator('#feed li', { hasText: text });

before(async () => {
  browser = await launchBrowser();
  originalHold = (await api('alice', 'GET', '/admin/orgs/demo')).maxParkSeconds;
  for (const name of ['alice', 'bob']) {
    await api(name, 'POST', PICKUP, { pickup: 'answer' });
    agents[name] = await openAgent(name);
  }
});

after(async () => {
  // Every caller leaves the lot; the hold time and every agent's choice are as they were.
  const lot = await api('alice', 'GET', '/api/lot');
  for (const s of lot.slots) if (s.call) await hangUp(s.call.pstnCallSid).catch(() => {});
  await api('alice', 'PATCH', '/admin/orgs/demo', { maxParkSeconds: originalHold || 180 });
  for (const name of ['alice', 'bob', 'carol']) await api(name, 'POST', PICKUP, { pickup: 'answer' });
  if (browser) await browser.close();
});

test('the choice loads from the service, the keyboard changes it, and a refusal keeps the previous one', async () => {
  const { page } = agents.bob;
  const group = await pickupGroup(page);
  assert.equal(await group.getByLabel('Answer', { exact: true }).isChecked(), true, 'answer: the default');
  assert.match(await group.getAttribute('aria-describedby'), /pickup-help/);
  assert.match(await page.locator('#pickup-help').textContent(), /go back to the slot, or\s+a ring-back go to voicemail/);

  // The keyboard alone: Tab into the group lands on the checked radio, an arrow moves on.
  await page.getByRole('button', { name: 'Simulate incoming call' }).focus();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.getAttribute('value')), 'answer');
  const saved = page.waitForRequest((r) => r.url().endsWith(PICKUP) && r.method() === 'POST', { timeout: 3000 });
  await page.keyboard.press('ArrowDown');
  assert.deepEqual((await saved).postDataJSON(), { pickup: 'decline' });
  await page.locator('#pickup-status', { hasText: 'Saved: your simulated browser declines.' }).waitFor({ timeout: 2000 });
  assert.equal(await group.getByLabel('Decline').isChecked(), true);
  assert.deepEqual(await api('bob', 'GET', PICKUP), { pickup: 'decline' });

  // A reloaded page shows the service's choice.
  await page.reload();
  await page.locator('#conn[data-state="live"]').waitFor({ timeout: 5000 });
  await pickupGroup(page);
  assert.equal(await group.getByLabel('Decline').isChecked(), true);

  // A refused save says why, accessibly, and the radios go back to the service's choice.
  await page.route(`**${PICKUP}`, (route) => (route.request().method() === 'POST'
    ? route.fulfill({ status: 400, contentType: 'application/json', body: JSON.stringify({ error: { code: 'invalid_request', message: 'pickup must be "answer", "decline" or "let_ring"' } }) })
    : route.continue()));
  const error = page.locator('#pickup-error');
  try {
    // A click, not check(): the radio is unchecked again as soon as the refusal comes back.
    await group.getByLabel('Let it ring').click();
    await error.filter({ hasText: /^Could not save your choice, so the previous one stays\. Pickup must be/ }).waitFor({ timeout: 2000 });
  } finally {
    await page.unroute(`**${PICKUP}`);
  }
  assert.equal(await error.getAttribute('role'), 'alert');
  assert.match(await group.getAttribute('aria-describedby'), /pickup-error/);
  assert.equal(await group.getByLabel('Decline').isChecked(), true, 'the previous choice');
  assert.equal(await group.getByLabel('Let it ring').isChecked(), false);
  assert.equal(await page.locator('#pickup-status').textContent(), '');
  await page.locator('#sandbox-panel').scrollIntoViewIfNeeded();
  await screenshot(page, 'pickup-refused');
  assert.deepEqual(await api('bob', 'GET', PICKUP), { pickup: 'decline' }, 'nothing changed');
  // The next choice clears the error.
  await choose(page, 'Answer', 'answer');
  assert.equal(await error.isHidden(), true);
  assert.doesNotMatch(await group.getAttribute('aria-describedby'), /pickup-error/);
});

test('a declined retrieve: the caller goes back to the same slot and nobody is on the call; answering, the retrieve connects', async () => {
  const [n] = await freeSlots();
  declined.slot = n;
  const number = await simulateAndPark(agents.alice.page, n);
  const { page } = agents.bob;
  await waitSlotCaller(page, n, number);
  await choose(page, 'Decline', 'decline');

  await slot(page, n).getByRole('button', { name: /^Retrieve/ }).click();
  // Both pages say the caller is back, in the same slot, parked by Alice as before.
  await feedLine(page, `is back in slot ${n}: you did not answer`).waitFor({ timeout: 3000 });
  await feedLine(agents.alice.page, `is back in slot ${n}: Bob did not answer`).waitFor({ timeout: LIVE_MS });
  for (const p of [page, agents.alice.page]) {
    await waitSlotState(p, n, 'parked', 2000);
    await waitSlotCaller(p, n, number);
  }
  assert.equal(await slot(page, n).locator('.meta').textContent(), 'Parked by Alice');
  assert.equal(await slot(page, n).getByRole('button', { name: /^Retrieve/ }).isEnabled(), true);
  // Nobody is on the call.
  assert.match(await page.locator('#call-area').textContent(), /No call right now/);
  await waitAvailable('bob');
  await waitAvailable('alice');
  const parked = (await api('bob', 'GET', '/api/lot')).slots.find((s) => s.slot === n);
  assert.equal(parked.state, 'parked');
  assert.equal(parked.call.callerNumber, number);
  await screenshot(page, 'pickup-declined-retrieve');

  // Answering again, the retrieve connects.
  await choose(page, 'Answer', 'answer');
  await slot(page, n).getByRole('button', { name: /^Retrieve/ }).click();
  await Promise.all([page, agents.alice.page].map((p) => waitSlotState(p, n, 'free', 3000)));
  await page.locator(`#call-card[data-caller-number="${number}"]`).waitFor({ timeout: 3000 });
  assert.match(await page.locator('#call-card .call-origin').textContent(), new RegExp(`^From slot ${n} · waited \\d:\\d\\d$`));
  const me = await api('bob', 'GET', '/api/me');
  assert.equal(me.currentCall && me.currentCall.callerNumber, number);
  await page.locator('#call-area').getByRole('button', { name: 'Caller hangs up' }).click();
  await page.locator('#call-card').waitFor({ state: 'detached', timeout: 2000 });
  await waitAvailable('bob');
});

test('let it ring: the slot is being retrieved for the whole ring time (it ends in the last test)', async () => {
  // A slot whose number no line of the feed names yet: the line of its return is new.
  const [n] = (await freeSlots()).filter((s) => s !== declined.slot);
  assert.equal(await feedLine(agents.alice.page, `is back in slot ${n}:`).count(), 0);
  const call = await parkFor('alice', n);
  const { page } = agents.bob;
  await waitSlotState(page, n, 'parked', 3000);
  await choose(page, 'Let it ring', 'let_ring');
  await slot(page, n).getByRole('button', { name: /^Retrieve/ }).click();
  Object.assign(ringing, { slot: n, number: call.callerNumber, since: Date.now() });
  await waitSlotState(agents.alice.page, n, 'retrieving', 3000);
  await slot(agents.alice.page, n).locator('.slot-status', { hasText: 'Being retrieved by Bob' }).waitFor({ timeout: LIVE_MS });
  // Still ringing a while later: nobody answered, nothing gave up.
  await page.waitForTimeout(2000);
  for (const p of [page, agents.alice.page]) assert.equal(await slot(p, n).getAttribute('data-state'), 'retrieving');
  assert.equal(await slot(page, n).locator('.slot-status').textContent(), 'Being retrieved by you');
  assert.match(await page.locator('#call-area').textContent(), /No call right now/);
  await screenshot(agents.alice.page, 'pickup-let-ring');
});

test('a declined ring-back: when the hold time is up the call goes to voicemail and the slot frees', async () => {
  const { page } = agents.alice;
  // The ring-back rings the parker only if she is available then.
  await waitAvailable('alice');
  await api('alice', 'PATCH', '/admin/orgs/demo', { maxParkSeconds: HOLD_S });
  try {
    await choose(page, 'Decline', 'decline');
    const n = (await freeSlots()).find((s) => s !== ringing.slot && s !== declined.slot);
    const parked = Date.now();
    const number = await simulateAndPark(page, n);
    // Time is up: the ring-back rings Alice, whose browser declines; the caller goes on to
    // voicemail, and every page shows the slot free and says so.
    const voicemail = (p) => feedLine(p, new RegExp(`went to voicemail from slot ${n}$`));
    await voicemail(page).waitFor({ timeout: (HOLD_S + 8) * 1000 });
    assert.ok(Date.now() - parked >= HOLD_S * 1000 - 500, 'not before the hold time was up');
    await voicemail(agents.bob.page).waitFor({ timeout: LIVE_MS });
    await feedLine(page, `Slot ${n} rang you back after 0:0`).waitFor({ timeout: LIVE_MS });
    await Promise.all([page, agents.bob.page].map((p) => waitSlotState(p, n, 'free', 2000)));
    assert.ok((await voicemail(page).textContent()).includes(number.slice(-4)), 'the line names the caller');
    await feedLine(page, 'left a voicemail').first().waitFor({ timeout: 3000 });
    // Alice was never put on the call.
    assert.match(await page.locator('#call-area').textContent(), /No call right now/);
    await waitAvailable('alice');
    await page.locator('#feed').scrollIntoViewIfNeeded();
    await screenshot(page, 'pickup-ringback-voicemail');
  } finally {
    // Back before the call bob lets ring returns to its slot.
    await api('alice', 'PATCH', '/admin/orgs/demo', { maxParkSeconds: originalHold });
    await api('alice', 'POST', PICKUP, { pickup: 'answer' });
  }
});

test('let it ring, ended: after the ring time the caller is back in the same slot', async () => {
  const { page } = agents.bob;
  const { slot: n, number, since } = ringing;
  assert.ok(n, 'the let-it-ring test started a retrieve');
  await feedLine(agents.alice.page, `is back in slot ${n}: Bob did not answer`)
    .waitFor({ timeout: Math.max(1000, RING_MS + 8000 - (Date.now() - since)) });
  const rang = Date.now() - since;
  assert.ok(rang >= RING_MS - 1500, `it rang for the ring time: ${rang} ms of ${RING_MS}`);
  for (const p of [page, agents.alice.page]) {
    await waitSlotState(p, n, 'parked', 2000);
    await waitSlotCaller(p, n, number);
  }
  assert.match(await page.locator('#call-area').textContent(), /No call right now/);
  await choose(page, 'Answer', 'answer');
  await hangUp((await api('bob', 'GET', '/api/lot')).slots.find((s) => s.slot === n).call.pstnCallSid);
  await Promise.all([page, agents.alice.page].map((p) => waitSlotState(p, n, 'free', 2000)));
  assert.deepEqual(pageProblems, []);
});
