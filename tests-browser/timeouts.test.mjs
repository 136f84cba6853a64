// Issue 18 items 3 and 2 (the feed): in an organisation of its own whose calls may wait 40 s,
// the parker's page warns 30 s before the time-out (a badge, the opt-in sound, a notification
// while the tab is hidden), another available agent can take a voicemail-bound call first
// ("Take it"), and an observer's activity feed says what happened: the take, the ring-back,
// the voicemail, the hang-up.
//
// The organisation (ringback on time-out): dave parks slot 1 and stays signed in (his call
// will ring him back); erin parks slots 2 and 3 and signs out (hers go to voicemail); gus
// parks slot 4 and its caller hangs up. fay takes slot 2 with "Take it"; gus watches.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import {
  api, createOrg, launchBrowser, openAgent, pageProblems, parkFor, screenshot, slot,
  waitSlotState,
} from './helpers.mjs';

const HOLD_S = 40;
/** When the first warning is due: 30 s before the deadline, plus the sweep's and the page's slack. */
const WARN_BY_MS = (HOLD_S - 30 + 4) * 1000;
/** The deadline's sweep runs every second; the ring-back and the voicemail follow at once. */
const TIMEOUT_BY_MS = (HOLD_S + 6) * 1000;

/**
 * A stand-in for the browser's Notification (permission granted) that records what it shows,
 * and a tab the test hides by setting window.__hidden.
 */
function fakeNotifications() {
  window.__notes = [];
  class FakeNotification {
    static permission = 'granted';
    static requestPermission() {
      return Promise.resolve('granted');
    }
    constructor(title, options) {
      window.__notes.push({ title, body: options && options.body, tag: options && options.tag });
    }
  }
  window.Notification = FakeNotification;
  Object.defineProperty(document, 'visibilityState', { get: () => (window.__hidden ? 'hidden' : 'visible') });
}

let browser;
const agents = {};
let start;
const calls = {};

before(async () => {
  browser = await launchBrowser();
  await createOrg(
    { slug: 'quick', name: 'Quick', slots: 4, numbers: ['+15005550140'], maxParkSeconds: HOLD_S, timeoutAction: 'ringback' },
    { dave: 'Dave', erin: 'Erin', fay: 'Fay', gus: 'Gus' },
  );
  agents.dave = await openAgent('dave', undefined, undefined, { init: fakeNotifications });
  agents.fay = await openAgent('fay', undefined, undefined, { init: fakeNotifications });
  agents.gus = await openAgent('gus');
  // The observer's lot, before anything is in the feed: the feed must not move it.
  agents.gus.gridTop = (await agents.gus.page.locator('#grid').boundingBox()).y;
  // Dave opts in to the sound, and hides his tab (the notification is for a hidden tab).
  await agents.dave.page.getByLabel('Play a sound when a call is about to time out').check();
  await agents.dave.page.evaluate(() => { window.__hidden = true; });
  await api('erin', 'POST', '/api/session', {});
  start = Date.now();
  calls.dave = await parkFor('dave', 1);
  calls.erin2 = await parkFor('erin', 2);
  calls.erin3 = await parkFor('erin', 3);
  await api('erin', 'DELETE', '/api/session');
  calls.gus = await parkFor('gus', 4);
  await waitSlotState(agents.gus.page, 4, 'parked', 3000);
  // The sandbox's caller hangs up (asked as an agent of the same organisation).
  await api('gus', 'POST', `/api/sandbox/calls/${calls.gus.pstnCallSid}/hangup`);
});

after(async () => {
  if (browser) await browser.close();
});

test('nothing warns while the hold time is far from up', async () => {
  const { page } = agents.dave;
  await waitSlotState(page, 1, 'parked', 3000);
  assert.ok(Date.now() - start < 8000, 'checked well before the warning is due');
  assert.equal(await page.locator('#warnings li').count(), 0);
  assert.ok(await page.locator('#warnings-none').isVisible());
});

test("the parker's page warns 30 s before its call rings back: a badge, the sound, one notification", async () => {
  const { page } = agents.dave;
  const warning = page.locator('#warnings li[data-slot="1"]');
  await warning.waitFor({ timeout: Math.max(1000, WARN_BY_MS - (Date.now() - start)) });
  assert.match(await warning.textContent(), /Slot 1.*rings you back in 0:(2\d|30)/);
  assert.ok(await page.locator('#warnings-none').isHidden());
  // Erin's calls go to voicemail but Dave is told about his own only: he is the parker there.
  // Each call warns 30 s before its own deadline: the three were parked a moment apart.
  await page.locator('#warnings li:nth-child(3)').waitFor({ timeout: 3000 });
  assert.equal(await page.locator('#warnings li').count(), 3, 'his own and the two he could take');
  assert.equal(await page.locator('#warnings li.warning--mine').count(), 1);
  await screenshot(page, 'timeout-warning-parker');
  // The sound he turned on played; the hidden tab notified, once per call, however many ticks.
  assert.ok(Number(await page.evaluate(() => document.body.dataset.warningSound || 0)) >= 1, 'the sound played');
  await page.waitForTimeout(1500);
  const notes = await page.evaluate(() => window.__notes);
  assert.equal(notes.filter((n) => n.tag && n.body.includes('rings you back')).length, 1, JSON.stringify(notes));
  assert.equal(new Set(notes.map((n) => n.tag)).size, notes.length, 'no call notified twice');
});

test('the sound is off unless the agent turns it on, and the choice is remembered', async () => {
  const { page } = agents.fay;
  const toggle = page.getByLabel('Play a sound when a call is about to time out');
  assert.equal(await toggle.isChecked(), false);
  await page.locator('#warnings li').first().waitFor({ timeout: Math.max(1000, WARN_BY_MS - (Date.now() - start)) });
  assert.equal(await page.evaluate(() => document.body.dataset.warningSound), undefined, 'no sound when it is off');
  // A visible tab is not notified, even with the permission.
  assert.deepEqual(await page.evaluate(() => window.__notes), []);
  assert.equal(await agents.dave.page.reload().then(() => agents.dave.page.getByLabel('Play a sound when a call is about to time out').isChecked()), true);
});

test("another available agent is offered the voicemail-bound calls, not the ones ringing back, and 'Take it' connects the caller", async () => {
  const { page } = agents.fay;
  const take = page.locator('#warnings li.warning--take[data-slot="2"]').getByRole('button', { name: /Take .* from slot 2/ });
  await take.waitFor({ timeout: Math.max(1000, WARN_BY_MS - (Date.now() - start)) });
  assert.equal(await take.textContent(), 'Take it');
  assert.match(await page.locator('#warnings li[data-slot="2"]').textContent(), /parked by Erin, goes to voicemail in 0:\d\d/);
  assert.equal(await page.locator('#warnings li[data-slot="1"]').count(), 0, "Dave's call rings Dave back");
  await screenshot(page, 'timeout-take-it');
  await take.click();
  await waitSlotState(agents.gus.page, 2, 'free', 3000);
  const me = await api('fay', 'GET', '/api/me');
  assert.equal(me.currentCall && me.currentCall.pstnCallSid, calls.erin2.pstnCallSid, 'fay is on the caller of slot 2');
  // Her card says where the call came from and how long it waited.
  await page.locator('#call-card .call-caller').waitFor({ timeout: 2000 });
  assert.match(await page.locator('#call-card .call-origin').textContent(), /^From slot 2 · waited 0:\d\d$/);
  // On a call now, she is offered nothing more, and the focus moved to her call.
  await page.locator('#warnings li.warning--take').waitFor({ state: 'detached', timeout: 2000 });
  assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.id), 'call-heading');
});

test("the observer's feed says the hang-up, the take, the ring-back and the voicemail, newest first, without moving the lot", async () => {
  const { page } = agents.gus;
  const feed = page.locator('#feed');
  const line = (re) => feed.locator('li', { hasText: re }).waitFor({ timeout: Math.max(1000, TIMEOUT_BY_MS - (Date.now() - start)) });
  await line(/hung up in slot 4 after 0:0\d/);
  await line(/Fay took .* from slot 2 after 0:\d\d/);
  await line(/Slot 1 rang Dave back after 0:4\d/);
  await line(/went to voicemail from slot 3/);
  await line(/left a voicemail/);
  assert.equal(await feed.getAttribute('aria-live'), 'polite');
  const texts = await feed.locator('li .feed-text').allTextContents();
  assert.ok(texts.findIndex((t) => /left a voicemail/.test(t)) < texts.findIndex((t) => /Fay took/.test(t)), texts.join(' | '));
  assert.ok(texts.length <= 8, 'capped');
  assert.match(await feed.locator('li time').first().textContent(), /^\d\d:\d\d:\d\d$/);
  assert.equal((await page.locator('#grid').boundingBox()).y, agents.gus.gridTop, 'the lot did not move');
  await screenshot(page, 'activity-feed');
  // Dave took his ring-back: his card says from where, after how long.
  await agents.dave.page.locator('#call-card .call-origin').waitFor({ timeout: 3000 });
  assert.match(await agents.dave.page.locator('#call-card .call-origin').textContent(), /^From slot 1 · waited 0:4\d$/);
  assert.equal(await slot(page, 1).getAttribute('data-state'), 'free');
  assert.deepEqual(pageProblems, []);
});
