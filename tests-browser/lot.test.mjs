// The agents' parking-lot page in headless Chromium, against the real callpark binary in sandbox
// mode. scripts/test-browser.sh starts the service and passes its URL and the demo agents'
// tokens in the environment (CALLPARK_URL, CALLPARK_TOKEN_ALICE, …).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, access } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

import {
  BASE, LIVE_MS, ROOT, TOKENS, api, callFor, hangUp, holdSeconds, launchBrowser, openAgent,
  pageProblems, screenshot, sleep, slot, waitAvailable, waitSlotCaller, waitSlotState,
} from './helpers.mjs';

const DOCS_SCREENSHOT = path.join(ROOT, 'docs', 'screenshot-lot.png');

let browser;
/** Signed-in pages, one browser context (so one session cookie) each. */
const agents = {};

/**
 * A TCP proxy in front of the service, to cut a page's connections (live feed included) and
 * refuse new ones, as a network outage would, then let them through again.
 */
async function startProxy(base) {
  const target = new URL(base);
  const sockets = new Set();
  let up = true;
  const server = net.createServer((client) => {
    if (!up) {
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(target.port), target.hostname);
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', close);
      socket.on('close', close);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    down() {
      up = false;
      for (const socket of sockets) socket.destroy();
    },
    up() {
      up = true;
    },
    close() {
      this.down();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

before(async () => {
  browser = await launchBrowser();
  agents.alice = await openAgent('alice');
  agents.bob = await openAgent('bob');
});

after(async () => {
  if (browser) await browser.close();
});

test('the sign-in link signs in and leaves no token in the address bar', async () => {
  const { page } = agents.alice;
  assert.ok(!page.url().includes('token'), `the token is gone from ${page.url()}`);
  assert.equal(await page.locator('#agent-name').textContent(), 'Alice');
  assert.equal(await page.locator('#org-name').textContent(), 'demo');
  assert.equal(await page.locator('#conn-label').textContent(), 'Live');
  assert.equal(await page.locator('#grid li.slot').count(), 8);
  assert.equal(await page.locator('#grid li.slot[data-state="free"] .slot-hint').first().textContent(), 'Drop call here');
});

test('a call dragged onto slot 2 shows on both pages within a second, and its timer runs', async () => {
  const { page } = agents.alice;
  await screenshot(page, 'lot-empty');
  await page.getByRole('button', { name: 'Simulate incoming call' }).click();
  const card = page.locator('#call-card');
  await card.waitFor();
  const number = await card.getAttribute('data-caller-number');
  assert.match(number, /^\+\d{8,15}$/);

  // Drag by hand, to see the slot invite the drop while the call hovers over it.
  const target = slot(page, 2);
  await card.hover();
  await page.mouse.down();
  const box = await target.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 8 });
  await page.mouse.move(box.x + box.width / 2 + 4, box.y + box.height / 2 + 4, { steps: 2 });
  await target.locator('.slot-hint', { hasText: 'Release to park' }).waitFor({ timeout: 2000 });
  assert.ok(await target.evaluate((el) => el.classList.contains('is-drop-hover')));
  // Occupied slots are no drop targets: none of them says so.
  await screenshot(page, 'lot-dragging');
  const dropped = Date.now();
  await page.mouse.up();

  await Promise.all(Object.values(agents).map(async ({ page: p }) => {
    await waitSlotCaller(p, 2, number);
    await waitSlotState(p, 2, 'parked');
  }));
  assert.ok(Date.now() - dropped < LIVE_MS + 200, 'both pages show the parked call within a second');
  assert.equal(await slot(agents.bob.page, 2).locator('.meta').textContent(), 'Parked by Alice');
  assert.equal(await slot(page, 2).locator('.meta').textContent(), 'Parked by you');
  // The call left Alice's hands.
  await page.locator('#call-card').waitFor({ state: 'detached', timeout: LIVE_MS });

  // The timer advances, computed from parkedAt (no polling of the server).
  const first = await holdSeconds(agents.bob.page, 2);
  await sleep(1300);
  const second = await holdSeconds(agents.bob.page, 2);
  assert.ok(second > first, `the hold timer advanced: ${first} s then ${second} s`);
  assert.ok(Math.abs((await holdSeconds(page, 2)) - second) <= 1, 'both pages agree on the hold time');
  assert.match(await slot(page, 2).locator('.deadline').textContent(), /^\d+:\d\d left$/);

  const occupied = await screenshot(page, 'lot-occupied');
  await screenshot(agents.bob.page, 'lot-occupied-bob');
  // The README's picture: refreshed on request (it changes with every run's timer).
  const docsMissing = await access(DOCS_SCREENSHOT).then(() => false, () => true);
  if (process.env.CALLPARK_UPDATE_SCREENSHOT === '1' || docsMissing) {
    await copyFile(occupied, DOCS_SCREENSHOT);
  }
});

test('another agent retrieves the parked call: the slot frees on both pages and the call is theirs', async () => {
  const { page } = agents.bob;
  const number = await slot(page, 2).locator('.caller-primary').getAttribute('data-caller-number');
  // Hold Bob's request back a moment, to see (and photograph) the optimistic state.
  await page.route('**/api/lot/2/retrieve', async (route) => {
    await sleep(600);
    await route.continue();
  });
  await slot(page, 2).getByRole('button', { name: /^Retrieve/ }).click();
  await waitSlotState(page, 2, 'retrieving', 300);
  assert.equal(await slot(page, 2).locator('.pill').textContent(), 'Retrieving');
  assert.equal(await slot(page, 2).locator('.slot-status').textContent(), 'Being retrieved by you');
  await screenshot(page, 'lot-retrieving');

  await Promise.all(Object.values(agents).map(({ page: p }) => waitSlotState(p, 2, 'free', 600 + LIVE_MS)));
  await page.locator(`#call-card[data-caller-number="${number}"]`).waitFor({ timeout: LIVE_MS });
  assert.match(await page.locator('#call-card .call-caller').textContent(), /555/);
  assert.equal(await agents.alice.page.locator('#call-card').count(), 0);
  await page.unroute('**/api/lot/2/retrieve');

  // Bob's caller hangs up: his call card goes.
  await page.locator('#call-area').getByRole('button', { name: 'Caller hangs up' }).click();
  await page.locator('#call-card').waitFor({ state: 'detached', timeout: LIVE_MS });
  assert.match(await page.locator('#call-area').textContent(), /No call right now/);
  // The caller's end frees bob: he is rung for the next call.
  await waitAvailable('bob');
});

test('a parked caller who hangs up frees the slot on both pages', async () => {
  const { page } = agents.alice;
  await page.getByRole('button', { name: 'Simulate incoming call' }).click();
  const number = await page.locator('#call-card').getAttribute('data-caller-number');
  // The click alternative to dragging: "Park…", then a slot.
  await page.getByRole('button', { name: 'Park…' }).click();
  await page.getByRole('button', { name: 'Park in slot 3' }).click();
  await Promise.all(Object.values(agents).map(({ page: p }) => waitSlotState(p, 3, 'parked')));
  await waitSlotCaller(agents.bob.page, 3, number);

  const lot = await api('bob', 'GET', '/api/lot');
  const parked = lot.slots.find((s) => s.slot === 3).call;
  await hangUp(parked.pstnCallSid);
  await Promise.all(Object.values(agents).map(({ page: p }) => waitSlotState(p, 3, 'free')));
  await agents.bob.page.locator('#announcer', { hasText: /Slot 3 is free: .* hung up/ }).waitFor({ state: 'attached', timeout: LIVE_MS });
});

test('parking onto a slot another agent took a moment earlier rolls back with the reason', async () => {
  const { page } = agents.alice;
  await page.getByRole('button', { name: 'Simulate incoming call' }).click();
  const card = page.locator('#call-card');
  const mine = await card.getAttribute('data-caller-number');
  const bobs = await callFor('bob');

  // Bob parks in slot 4 after Alice dropped her call there, but before her request arrives:
  // her page could not know.
  await page.route('**/api/park', async (route) => {
    await api('bob', 'POST', '/api/park', { callSid: bobs.callSid, slot: 4 });
    await route.continue();
  }, { times: 1 });
  await card.dragTo(slot(page, 4));

  const alert = page.locator('#alert-text');
  await alert.waitFor({ timeout: 2000 });
  assert.match(await alert.textContent(), /Could not park the call in slot 4\. Slot 4 is occupied/i);
  assert.equal(await page.getByRole('alert').isVisible(), true);
  // Alice still has her call, and slot 4 shows Bob's.
  await page.locator(`#call-card[data-caller-number="${mine}"]`).waitFor({ timeout: LIVE_MS });
  await waitSlotCaller(page, 4, bobs.callerNumber);
  assert.equal(await slot(page, 4).locator('.meta').textContent(), 'Parked by Bob');
  await screenshot(page, 'lot-conflict');
  await page.getByRole('button', { name: 'Dismiss message' }).click();
  assert.equal(await page.locator('#alert').isVisible(), false);

  // Cleanup through the page: both callers hang up.
  await slot(page, 4).getByRole('button', { name: 'Caller in slot 4 hangs up' }).click();
  await page.locator('#call-area').getByRole('button', { name: 'Caller hangs up' }).click();
  await Promise.all(Object.values(agents).map(({ page: p }) => waitSlotState(p, 4, 'free')));
  await page.locator('#call-card').waitFor({ state: 'detached', timeout: LIVE_MS });
});

test('the keyboard alone parks a call', async () => {
  const { page } = agents.alice;
  await page.getByRole('button', { name: 'Simulate incoming call' }).focus();
  await page.keyboard.press('Enter');
  const card = page.locator('#call-card');
  await card.waitFor();
  const number = await card.getAttribute('data-caller-number');
  // Answering the call puts focus on its card.
  await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'call-card');

  // Enter opens the slot choice, Escape closes it again.
  await page.keyboard.press('Enter');
  await page.locator('#choose-hint').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Park in slot 1');
  await screenshot(page, 'lot-choosing');
  await page.keyboard.press('Escape');
  await page.locator('#choose-hint').waitFor({ state: 'hidden' });
  assert.equal(await page.evaluate(() => document.activeElement.id), 'call-card');

  // Enter, then the slot's number.
  await page.keyboard.press('Enter');
  await page.keyboard.press('5');
  await Promise.all(Object.values(agents).map(({ page: p }) => waitSlotCaller(p, 5, number)));
  await waitSlotState(agents.bob.page, 5, 'parked');

  // And Space, Tab and Enter on the slot buttons, on Bob's page.
  const bobPage = agents.bob.page;
  await bobPage.getByRole('button', { name: 'Simulate incoming call' }).focus();
  await bobPage.keyboard.press('Enter');
  await bobPage.waitForFunction(() => document.activeElement && document.activeElement.id === 'call-card');
  const bobs = { callerNumber: await bobPage.locator('#call-card').getAttribute('data-caller-number') };
  await bobPage.keyboard.press(' ');
  await bobPage.keyboard.press('Tab'); // from the first free slot to the next one
  const focused = await bobPage.evaluate(() => document.activeElement.getAttribute('aria-label'));
  assert.match(focused, /^Park in slot \d$/);
  const chosen = Number(focused.at(-1));
  await bobPage.keyboard.press('Enter');
  await Promise.all(Object.values(agents).map(({ page: p }) => waitSlotCaller(p, chosen, bobs.callerNumber)));

  const lot = await api('alice', 'GET', '/api/lot');
  for (const s of lot.slots) if (s.call) await hangUp(s.call.pstnCallSid);
  await Promise.all(Object.values(agents).map(({ page: p }) => waitSlotState(p, 5, 'free')));
});

test('live updates resume after the connection drops, and the page says when they are down', async () => {
  const proxy = await startProxy(BASE);
  const carol = await openAgent('carol', undefined, proxy.url);
  try {
    const { page } = carol;
    proxy.down();
    await page.locator('#conn[data-state="reconnecting"]').waitFor({ timeout: 3000 });
    assert.equal(await page.locator('#conn-label').textContent(), 'Reconnecting…');
    await screenshot(page, 'lot-reconnecting');

    // Bob parks while Carol's page is cut off; she sees it once the feed is back.
    const bobs = await callFor('bob');
    await api('bob', 'POST', '/api/park', { callSid: bobs.callSid, slot: 6 });
    await sleep(300);
    assert.equal(await page.locator('#conn[data-state="reconnecting"]').count(), 1);
    assert.equal(await slot(page, 6).getAttribute('data-state'), 'free');
    proxy.up();
    // The browser retries after the service's `retry: 2000`, resuming with Last-Event-ID.
    await page.locator('#conn[data-state="live"]').waitFor({ timeout: 6000 });
    await waitSlotCaller(page, 6, bobs.callerNumber);
    await hangUp(bobs.pstnCallSid);
    await waitSlotState(page, 6, 'free');
  } finally {
    await carol.context.close();
    await proxy.close();
  }
});

test('on a narrow screen the lot reflows and nothing scrolls sideways', async () => {
  const carol = await openAgent('carol', { width: 390, height: 844 });
  try {
    const { page } = carol;
    const bobs = await callFor('bob');
    await api('bob', 'POST', '/api/park', { callSid: bobs.callSid, slot: 1 });
    await waitSlotState(page, 1, 'parked');
    const widths = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      view: window.innerWidth,
      columns: getComputedStyle(document.getElementById('grid')).gridTemplateColumns.split(' ').length,
    }));
    assert.ok(widths.scroll <= widths.view, `no sideways scrolling: ${JSON.stringify(widths)}`);
    assert.ok(widths.columns <= 2, `the grid reflows: ${widths.columns} columns`);
    await page.locator('#grid').scrollIntoViewIfNeeded();
    await screenshot(page, 'lot-narrow');
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, 'lot-narrow-top');
    await hangUp(bobs.pstnCallSid);
    await waitSlotState(page, 1, 'free');
  } finally {
    await carol.context.close();
  }
});

test('the sign-in form and sign-out', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await context.newPage();
    page.on('pageerror', (error) => pageProblems.push(`sign-in: ${error.message}`));
    await page.goto(`${BASE}/`);
    const input = page.getByLabel('Agent token');
    await input.waitFor();
    await input.fill('cpk_not_a_real_token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#signin-error', { hasText: 'not accepted' }).waitFor();
    await screenshot(page, 'sign-in');
    await input.fill(TOKENS.carol);
    await input.press('Enter');
    await page.locator('#conn[data-state="live"]').waitFor({ timeout: 5000 });
    assert.equal(await page.locator('#agent-name').textContent(), 'Carol');
    assert.equal(await page.locator('#agent-status').textContent(), 'Available');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await input.waitFor();
    const me = await fetch(`${BASE}/api/me`, { headers: { Cookie: (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ') } });
    assert.equal(me.status, 401, 'the session cookie is gone');
    const carol = (await api('alice', 'GET', '/api/agents')).find((a) => a.identity === 'carol');
    assert.equal(carol.status, 'offline');
  } finally {
    await context.close();
  }
});

/** Stands in for the Twilio Voice SDK: same surface as the page uses, no network. */
const FAKE_VOICE_SDK = `(() => {
  class Emitter {
    constructor() { this.handlers = {}; }
    on(event, fn) { (this.handlers[event] ||= []).push(fn); return this; }
    emit(event, ...args) { for (const fn of this.handlers[event] || []) fn(...args); }
  }
  class Call extends Emitter {
    constructor(parameters, custom) {
      super();
      this.parameters = parameters;
      this.customParameters = new Map(Object.entries(custom));
    }
    accept() { this.emit('accept', this); }
    reject() { this.emit('reject'); }
    mute(on) { this.muted = on; }
    disconnect() { this.disconnected = true; this.emit('disconnect', this); }
  }
  class Device extends Emitter {
    constructor(token, options) { super(); this.token = token; this.options = options; window.fakeDevice = this; }
    async register() { this.emit('registering'); this.emit('registered'); }
    updateToken(token) { this.token = token; }
    destroy() {}
  }
  window.Twilio = { Device, FakeCall: Call };
})();`;

test('with Twilio Voice, a call rings in the browser, and parking uses the SDK call\'s SID', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await context.newPage();
    page.on('pageerror', (error) => pageProblems.push(`voice: ${error.message}`));
    // The service as if Twilio Voice were configured.
    await page.route('**/api/me', async (route) => {
      try {
        const response = await route.fetch();
        const me = await response.json();
        await route.fulfill({ response, json: { ...me, sandbox: false, voice: true, currentCall: null } });
      } catch {
        // The page closed while a request was on its way.
      }
    });
    let tokens = 0;
    await page.route('**/api/token', (route) => {
      tokens += 1;
      return route.fulfill({ json: { token: `token-${tokens}`, identity: 'carol', ttlSeconds: 3600 } });
    });
    await page.route('**/ui/vendor/twilio-voice-sdk/twilio.min.js', (route) => route.fulfill({
      contentType: 'text/javascript', body: FAKE_VOICE_SDK,
    }));
    await page.goto(`${BASE}/#token=${TOKENS.carol}`);
    await page.locator('.phone-status', { hasText: 'Phone ready' }).waitFor({ timeout: 5000 });
    assert.equal(await page.locator('#sandbox-panel').isVisible(), false);
    assert.equal(await page.evaluate(() => window.fakeDevice.token), 'token-1');

    // The token is refreshed before it expires.
    await page.evaluate(() => window.fakeDevice.emit('tokenWillExpire'));
    await page.waitForFunction(() => window.fakeDevice.token === 'token-2');

    // A retrieved call rings: accept it.
    const sid = `CA${'f'.repeat(32)}`;
    await page.evaluate((callSid) => {
      window.fakeCall = new window.Twilio.FakeCall(
        { CallSid: callSid, From: '+15551230000' },
        { callerNumber: '+15551230000', callerName: 'Ada Lovelace', slot: '3', reason: 'retrieve' },
      );
      window.fakeDevice.emit('incoming', window.fakeCall);
    }, sid);
    await page.locator('.call-card--ringing', { hasText: 'Retrieved from slot 3' }).waitFor();
    assert.match(await page.locator('.call-card--ringing').textContent(), /Ada Lovelace/);
    await page.getByRole('button', { name: 'Accept' }).click();
    const card = page.locator('#call-card[data-caller-number="+15551230000"]');
    await card.waitFor();
    assert.match(await card.textContent(), /Ada Lovelace/);

    // Mute mutes the SDK call's microphone.
    const mute = page.getByRole('button', { name: 'Mute', exact: true });
    await mute.click();
    assert.equal(await page.evaluate(() => window.fakeCall.muted), true);
    assert.equal(await mute.getAttribute('aria-pressed'), 'true');
    assert.equal(await page.locator('#call-area .call-muted').textContent(), 'Muted: the caller cannot hear you');
    await mute.click();
    assert.equal(await page.evaluate(() => window.fakeCall.muted), false);

    // Park it: the page sends the SDK call's own SID.
    // The card leaves as soon as the park begins, before the request is sent: wait for the request.
    /** @type {(body: unknown) => void} */
    let parkSent = () => {};
    const parkBody = new Promise((resolve) => { parkSent = resolve; });
    await page.route('**/api/park', (route) => {
      parkSent(route.request().postDataJSON());
      return route.fulfill({
        status: 201,
        json: { id: '00000000-0000-4000-8000-000000000001', slot: 7, conferenceName: 'park-x', pstnCallSid: `CA${'e'.repeat(32)}`, parkedAt: new Date().toISOString(), state: 'parking' },
      });
    });
    await card.focus();
    await page.keyboard.press('Enter');
    await page.keyboard.press('7');
    await card.waitFor({ state: 'detached' });
    assert.deepEqual(await parkBody, { callSid: sid, slot: 7 });
    await waitSlotState(page, 7, 'parking');
    // Twilio then drops the browser's leg.
    await page.evaluate(() => window.fakeCall.disconnect());
    await page.locator('#call-area', { hasText: 'No call right now' }).waitFor({ timeout: LIVE_MS });

    // Another call: Hang up, once confirmed, disconnects the SDK call.
    await page.evaluate(() => {
      window.fakeCall = new window.Twilio.FakeCall({ CallSid: `CA${'d'.repeat(32)}`, From: '+15551230001' }, {});
      window.fakeDevice.emit('incoming', window.fakeCall);
    });
    await page.getByRole('button', { name: 'Accept' }).click();
    await page.getByRole('button', { name: /^Hang up on / }).click();
    assert.equal(await page.evaluate(() => Boolean(window.fakeCall.disconnected)), false, 'asked first');
    await page.getByRole('dialog').getByRole('button', { name: 'Hang up', exact: true }).click();
    await page.locator('#call-area', { hasText: 'No call right now' }).waitFor({ timeout: LIVE_MS });
    assert.equal(await page.evaluate(() => window.fakeCall.disconnected), true);
  } finally {
    await context.close();
  }
});

test('the vendored Twilio Voice SDK loads under the page\'s Content-Security-Policy', async () => {
  const { page } = agents.alice;
  const loaded = await page.evaluate(() => new Promise((resolve) => {
    const script = document.createElement('script');
    script.src = '/ui/vendor/twilio-voice-sdk/twilio.min.js';
    script.onload = () => resolve(typeof window.Twilio === 'object' && typeof window.Twilio.Device === 'function');
    script.onerror = () => resolve(false);
    document.head.append(script);
  }));
  assert.equal(loaded, true);
});

test('no page had a script error or a Content-Security-Policy violation', () => {
  assert.deepEqual(pageProblems, []);
});
