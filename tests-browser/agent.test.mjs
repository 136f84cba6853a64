// The agent's own page (issue 18): no caller lost by a click, what happened in words, the
// agent's own call, feedback that does not move the page. Headless Chromium against the real
// callpark binary in sandbox mode (scripts/test-browser.sh).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import {
  BASE, LIVE_MS, TOKENS, api, callFor, hangUp, launchBrowser, openAgent, pageProblems, screenshot,
  sleep, slot, waitAvailable, waitSlotCaller, waitSlotState,
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
  // A caller reaches Alice while her page does not know yet: the live stream says within a
  // second that she is on a call, so her page is held at what /api/me said before.
  const before = await api('alice', 'GET', '/api/me');
  await page.route('**/api/me', (route) => route.fulfill({ json: before }));
  const mine = await callFor('alice');
  assert.equal(await slot(page, 3).getByRole('button', { name: /^Retrieve/ }).count(), 1);

  await slot(page, 3).getByRole('button', { name: /^Retrieve/ }).click();
  const offer = page.getByRole('button', { name: 'Park my current call and retrieve', exact: true });
  await offer.waitFor({ timeout: 2000 });
  await page.unroute('**/api/me');
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

/** Alice's page from a clean start: an empty lot, no call (even after a test failed midway). */
async function freshAlice() {
  await emptyLot();
  await waitAvailable('alice');
  await agents.alice.page.reload();
  await agents.alice.page.locator('#conn[data-state="live"]').waitFor({ timeout: 5000 });
  await agents.alice.page.locator('#grid li.slot').first().waitFor();
}

/** Where every slot and the lot are on the page (x, y, width, height; y from the page's top). */
async function boxes(page) {
  return page.evaluate(() => {
    const box = (el) => {
      const r = el.getBoundingClientRect();
      return [r.x, r.y + window.scrollY, r.width, r.height].map(Math.round).join(',');
    };
    const slots = [...document.querySelectorAll('#grid li.slot')].map((li) => [`slot ${li.dataset.slot}`, box(li)]);
    return { lot: box(document.querySelector('section.lot')), ...Object.fromEntries(slots) };
  });
}

/** Drags the call card by hand onto slot `n` and lets go, whether the slot takes it or not. */
async function dragCallOnto(page, n) {
  const target = await slot(page, n).boundingBox();
  await page.locator('#call-card').hover();
  await page.mouse.down();
  await page.mouse.move(target.x + target.width / 2, target.y + target.height / 2, { steps: 8 });
  await page.mouse.move(target.x + target.width / 2 + 4, target.y + target.height / 2 + 4, { steps: 2 });
  await page.mouse.up();
}

test('a taken slot says so when a call is dropped on it or its number typed, and nothing moves', async () => {
  await freshAlice();
  const { page } = agents.alice;
  const bobs = await bobParks(3);
  await page.getByRole('button', { name: 'Simulate incoming call' }).click();
  const card = page.locator('#call-card');
  await card.waitFor();
  const mine = await card.getAttribute('data-caller-number');
  const before = await boxes(page);
  const refusal = slot(page, 3).locator('.slot-refusal');

  await dragCallOnto(page, 3);
  await refusal.waitFor({ timeout: 2000 });
  assert.equal(await refusal.textContent(), 'Slot 3 is taken');
  assert.equal(await refusal.isVisible(), true);
  assert.equal(await slot(page, 3).evaluate((el) => getComputedStyle(el).outlineStyle), 'solid');
  await page.locator('#announcer', { hasText: 'Slot 3 is taken. Choose a free slot.' }).waitFor({ state: 'attached' });
  assert.deepEqual(await boxes(page), before, 'the feedback moved nothing');
  await screenshot(page, 'slot-taken-drop');
  // Nothing was parked: the call is still Alice's, slot 3 still Bob's caller.
  await page.locator(`#call-card[data-caller-number="${mine}"]`).waitFor({ timeout: LIVE_MS });
  await waitSlotCaller(page, 3, bobs.callerNumber);
  await refusal.waitFor({ state: 'detached', timeout: 4000 });
  assert.deepEqual(await boxes(page), before, 'and the lot is as it was after it');

  // Typing the slot's number from the call card.
  await card.focus();
  await page.keyboard.press('3');
  await refusal.waitFor({ timeout: 1000 });
  assert.equal(await refusal.isVisible(), true);
  assert.deepEqual(await boxes(page), before);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'call-card', 'the focus stays on the call');

  // The service refuses a slot the page thought free: the banner floats, it pushes nothing down.
  await page.route('**/api/park', (route) => route.fulfill({
    status: 409, json: { error: { code: 'slot_occupied', message: 'slot 4 is occupied' } },
  }), { times: 1 });
  await dragCallOnto(page, 4);
  await page.getByRole('alert').waitFor({ timeout: 2000 });
  assert.match(await page.locator('#alert-text').textContent(), /Could not park the call in slot 4\. Slot 4 is occupied/);
  await slot(page, 4).locator('.slot-refusal', { hasText: 'Slot 4 is taken' }).waitFor({ timeout: 1000 });
  await waitSlotState(page, 4, 'free');
  assert.deepEqual(await boxes(page), before, 'the error banner moved nothing');
  await screenshot(page, 'slot-taken-banner');
  await page.getByRole('button', { name: 'Dismiss message' }).click();
  await page.locator('#call-area').getByRole('button', { name: 'Caller hangs up' }).click();
  await page.locator('#call-card').waitFor({ state: 'detached', timeout: LIVE_MS });
  await emptyLot();
  await waitSlotState(page, 3, 'free');
  await waitAvailable('alice');
});

test('on a narrow screen the occupied slots come first', async () => {
  await emptyLot();
  const carol = await openAgent('carol', { width: 400, height: 800 });
  try {
    const { page } = carol;
    for (const n of [7, 4]) {
      const call = await callFor('bob');
      await api('bob', 'POST', '/api/park', { callSid: call.callSid, slot: n });
      await waitSlotState(page, n, 'parked');
    }
    /** The slots' numbers in reading order: row by row, left to right. */
    const shown = (p) => p.evaluate(() => [...document.querySelectorAll('#grid li.slot')]
      .map((li) => ({ n: Number(li.dataset.slot), r: li.getBoundingClientRect() }))
      .sort((a, b) => Math.round(a.r.top) - Math.round(b.r.top) || a.r.left - b.r.left)
      .map((s) => s.n));
    assert.deepEqual(await shown(page), [4, 7, 1, 2, 3, 5, 6, 8]);
    await screenshot(page, 'lot-narrow-occupied-first');
    // A wide screen keeps the numbers' order.
    assert.deepEqual(await shown(agents.alice.page), [1, 2, 3, 4, 5, 6, 7, 8]);
    await emptyLot();
    await waitSlotState(page, 4, 'free');
    await waitSlotState(page, 7, 'free');
    assert.deepEqual(await shown(page), [1, 2, 3, 4, 5, 6, 7, 8]);
  } finally {
    await carol.context.close();
  }
});

test('the sign-in box takes the whole sign-in link', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await context.newPage();
    page.on('pageerror', (error) => pageProblems.push(`sign-in link: ${error.message}`));
    await page.goto(`${BASE}/`);
    const input = page.getByLabel('Sign-in link or agent token');
    await input.fill(`${BASE}/#from=mail`);
    await input.press('Enter');
    await page.locator('#signin-error', { hasText: 'That link has no token in it' }).waitFor();
    assert.equal(await input.getAttribute('aria-invalid'), 'true');

    await input.fill(`  ${BASE}/#token=${TOKENS.carol}\n`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#conn[data-state="live"]').waitFor({ timeout: 5000 });
    assert.equal(await page.locator('#agent-name').textContent(), 'Carol');
    assert.ok(!page.url().includes('token'), `no token in ${page.url()}`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await input.waitFor();
  } finally {
    await context.close();
  }
});

test('the agent\'s own call: its time runs, Mute toggles, and Hang up asks before it ends the call', async () => {
  await freshAlice();
  const { page } = agents.alice;
  await page.getByRole('button', { name: 'Simulate incoming call' }).click();
  const card = page.locator('#call-card');
  await card.waitFor();
  const timer = page.locator('#call-area .call-timer-value');
  const seconds = async () => (await timer.textContent()).split(':').map(Number).reduce((t, p) => t * 60 + p, 0);
  const first = await seconds();
  assert.ok(first <= 1, `the call time starts from 0: ${first} s`);
  await sleep(1300);
  assert.ok((await seconds()) > first, 'the call time runs');

  const mute = page.getByRole('button', { name: 'Mute', exact: true });
  assert.equal(await mute.getAttribute('aria-pressed'), 'false');
  await mute.click();
  assert.equal(await mute.getAttribute('aria-pressed'), 'true');
  assert.equal(await page.locator('#call-area .call-muted').textContent(), 'Muted (simulated: the sandbox has no audio)');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.action), 'mute', 'the focus stays on Mute');
  await page.locator('#announcer', { hasText: 'Muted (simulated)' }).waitFor({ state: 'attached' });
  await screenshot(page, 'call-muted');
  await mute.click();
  assert.equal(await mute.getAttribute('aria-pressed'), 'false');
  assert.equal(await page.locator('#call-area .call-muted').count(), 0);

  // One click does not end the call: the page asks, and keeping the call is the default.
  const onCall = (await api('alice', 'GET', '/api/me')).currentCall;
  await page.getByRole('button', { name: /^Hang up on / }).click();
  const dialog = page.getByRole('dialog', { name: /^Hang up on .+\?$/ });
  await dialog.waitFor({ timeout: 2000 });
  assert.equal(await page.evaluate(() => document.activeElement.id), 'hangup-cancel');
  await screenshot(page, 'hang-up-asked');
  await page.keyboard.press('Enter');
  await dialog.waitFor({ state: 'hidden' });
  assert.equal((await api('alice', 'GET', '/api/me')).currentCall.pstnCallSid, onCall.pstnCallSid);
  await card.waitFor();

  // The question goes with its call: here the caller hangs up first.
  await page.getByRole('button', { name: /^Hang up on / }).click();
  await dialog.waitFor();
  await api('alice', 'POST', `/api/sandbox/calls/${onCall.pstnCallSid}/hangup`);
  // The page learns of it the next time it asks the service: here, as on coming back to the tab.
  await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
  await dialog.waitFor({ state: 'hidden', timeout: LIVE_MS });
  await card.waitFor({ state: 'detached', timeout: LIVE_MS });
  await waitAvailable('alice');

  await page.getByRole('button', { name: 'Simulate incoming call' }).click();
  await page.getByRole('button', { name: /^Hang up on / }).click();
  await dialog.getByRole('button', { name: 'Hang up', exact: true }).click();
  await card.waitFor({ state: 'detached', timeout: LIVE_MS });
  assert.match(await page.locator('#call-area').textContent(), /No call right now/);
  await page.locator('#announcer', { hasText: /^You hung up on / }).waitFor({ state: 'attached' });
  assert.equal(await page.evaluate(() => document.activeElement.id), 'call-heading');
  await waitAvailable('alice');
  await page.locator('#agent-status', { hasText: 'Available' }).waitFor({ timeout: LIVE_MS });
});

test('no page had a script error or a Content-Security-Policy violation', () => {
  assert.deepEqual(pageProblems, []);
});

/** The status Alice's Team panel shows for `name`, or null while it is not listed. */
async function teamStatus(page, name) {
  return page.evaluate((who) => {
    const item = [...document.querySelectorAll('#team li.team-member')]
      .find((li) => li.querySelector('.team-name')?.textContent?.toLowerCase().startsWith(who));
    return item ? item.querySelector('.team-status')?.textContent ?? null : null;
  }, name);
}

test('the Team panel follows another agent signing out and in within a second, with no lot change', async () => {
  const { page } = agents.alice;
  await api('carol', 'POST', '/api/session');
  await page.waitForFunction(
    () => [...document.querySelectorAll('#team .team-name')].some((n) => n.textContent.toLowerCase().startsWith('carol')),
    null, { timeout: 5000 },
  );
  const followed = async (status) => {
    const started = Date.now();
    while ((await teamStatus(page, 'carol')) !== status) {
      assert.ok(Date.now() - started < 1000, `carol shown as ${status} within a second (still ${await teamStatus(page, 'carol')})`);
      await sleep(25);
    }
  };
  await followed('Available');
  await api('carol', 'DELETE', '/api/session');
  await followed('Offline');
  await api('carol', 'POST', '/api/session');
  await followed('Available');
  await screenshot(page, 'team-follows-status');
});
