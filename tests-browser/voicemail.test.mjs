// The Voicemail view. In an organisation of its own whose parked calls go to voicemail after
// 3 s (the sandbox's caller then leaves a message of a few seconds at once), an agent, otto,
// parks a call that nobody retrieves. The supervisor, vera, opens Voicemail, sees the row and
// plays the message in headless Chromium; a second voicemail shows on both pages as it is
// recorded, the first row's player untouched; vera marks the first handled and otto's page says
// so without a reload. An agent of another organisation gets 404 for the audio and for
// "handled", and the audio the service sends is the recording's bytes alone.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import {
  BASE, LIVE_MS, TOKENS, api, callFor, createOrg, launchBrowser, openAgent, pageProblems, screenshot, until,
} from './helpers.mjs';
import { formatNumber } from '../crates/callpark-http/ui/format.js';

const HOLD_S = 3;
/** The deadline's sweep runs every second; the voicemail and its recording follow at once. */
const VOICEMAIL_BY_MS = (HOLD_S + 8) * 1000;

let browser;
const agents = {};
/** The voicemails, in the order they were left: each call's park id and its caller's number. */
const voicemails = [];

/** `name` parks a simulated call in slot `n` that nobody retrieves: its park id and caller. */
async function parkedForVoicemail(name, n) {
  const call = await callFor(name);
  const { id } = await api(name, 'POST', '/api/park', { callSid: call.callSid, slot: n });
  return { id, callerNumber: call.callerNumber };
}

/** Waits until the history holds the call's recording. */
const recorded = (id) => until(`the voicemail of ${id} is recorded`, async () => {
  const { calls } = await api('vera', 'GET', '/api/history?outcome=voicemail');
  return calls.find((c) => c.id === id && c.voicemail);
}, VOICEMAIL_BY_MS);

/** A voicemail's row on a page. */
const row = (page, id) => page.locator(`#voicemail-calls tr[data-id="${id}"]`);
const cell = (page, id, column) => row(page, id).locator(`[data-column="${column}"]`);

before(async () => {
  browser = await launchBrowser();
  await createOrg(
    { slug: 'voicemail', name: 'Voicemail', slots: 4, numbers: ['+15005550188'], maxParkSeconds: HOLD_S, timeoutAction: 'voicemail' },
    { vera: { displayName: 'Vera', role: 'supervisor' }, otto: 'Otto' },
  );
  await createOrg({ slug: 'elsewhere', name: 'Elsewhere', slots: 2, numbers: ['+15005550189'] }, { eli: 'Eli' });
  agents.vera = await openAgent('vera');
  agents.otto = await openAgent('otto');
  voicemails.push(await parkedForVoicemail('otto', 2));
  await recorded(voicemails[0].id);
});

after(async () => {
  if (browser) await browser.close();
});

test('the supervisor sees the voicemail: the caller, the slot, who parked it, its length', async () => {
  const { page } = agents.vera;
  await page.getByRole('button', { name: 'Voicemail' }).click();
  await page.getByRole('heading', { name: 'Voicemail', level: 1 }).waitFor();
  const [{ id, callerNumber }] = voicemails;
  await row(page, id).waitFor({ timeout: 5000 });
  assert.equal(await page.locator('#lot-view').isHidden(), true, 'the lot gives way to the voicemails');
  assert.equal(await cell(page, id, 'caller').textContent(), formatNumber(callerNumber));
  assert.equal(await cell(page, id, 'slot').textContent(), '2');
  assert.equal(await cell(page, id, 'parkedBy').textContent(), 'Otto');
  assert.match(await cell(page, id, 'leftAt').textContent(), /^\d{1,2} \w{3}, \d\d:\d\d:\d\d$/);
  // The length comes from the audio's metadata: the sandbox's message is a few seconds long.
  await cell(page, id, 'length').filter({ hasText: /^0:0[1-9]$/ }).waitFor({ timeout: 5000 });
  assert.equal(await page.locator('#voicemail-status').textContent(), '1 voicemail, not handled.');
  assert.equal(await row(page, id).getByRole('button', { name: 'Mark handled' }).count(), 1);
});

test('the supervisor plays the message: the audio plays in the browser', async () => {
  const { page } = agents.vera;
  const [{ id }] = voicemails;
  const audio = row(page, id).locator('audio');
  assert.equal(await audio.getAttribute('aria-label'), `Message from ${await cell(page, id, 'caller').textContent()}`);
  assert.equal(await audio.evaluate((el) => new URL(el.currentSrc).pathname), `/api/voicemails/${id}/audio`);
  // The play button is the browser's own, at the start of its controls.
  const box = await audio.boundingBox();
  await page.mouse.click(box.x + 18, box.y + box.height / 2);
  await audio.evaluate((el) => new Promise((resolve, reject) => {
    if (el.currentTime > 0.5) return resolve();
    const timer = setTimeout(() => reject(new Error(`still at ${el.currentTime} s, paused: ${el.paused}`)), 5000);
    el.addEventListener('timeupdate', () => {
      if (el.currentTime > 0.5) {
        clearTimeout(timer);
        resolve();
      }
    });
  }));
  const played = await audio.evaluate((el) => ({ duration: el.duration, currentTime: el.currentTime, error: el.error && el.error.code }));
  assert.ok(played.duration > 0, JSON.stringify(played));
  assert.ok(played.currentTime > 0.5, JSON.stringify(played));
  assert.equal(played.error, null);
  await screenshot(page, 'voicemail');
  // Out of sight, it could not be paused: leaving the view pauses it.
  await page.getByRole('button', { name: 'Parking lot' }).click();
  assert.equal(await audio.evaluate((el) => el.paused), true, 'paused with the view');
  await page.getByRole('button', { name: 'Voicemail' }).click();
  await row(page, id).locator('audio').waitFor();
});

test('a new voicemail shows on every page with the view open, the rows shown left as they are', async () => {
  const vera = agents.vera.page;
  const otto = agents.otto.page;
  await otto.getByRole('button', { name: 'Voicemail' }).click();
  await row(otto, voicemails[0].id).waitFor({ timeout: 5000 });
  // The first row's player, marked: a refresh must not rebuild it.
  await row(vera, voicemails[0].id).locator('audio').evaluate((el) => { el.dataset.kept = 'yes'; });
  voicemails.push(await parkedForVoicemail('otto', 3));
  const { id } = voicemails[1];
  await recorded(id);
  for (const page of [vera, otto]) await row(page, id).waitFor({ timeout: LIVE_MS });
  assert.deepEqual(
    await vera.locator('#voicemail-calls tr').evaluateAll((rows) => rows.map((r) => r.dataset.id)),
    [voicemails[1].id, voicemails[0].id], 'newest first',
  );
  assert.equal(await row(vera, voicemails[0].id).locator('audio').getAttribute('data-kept'), 'yes');
  assert.equal(await cell(otto, id, 'slot').textContent(), '3');
  await otto.locator('#voicemail-status', { hasText: 'All 2 voicemails, none handled.' }).waitFor();
});

test('the supervisor marks it handled, and the agent\'s page says so without a reload', async () => {
  const vera = agents.vera.page;
  const otto = agents.otto.page;
  const [{ id }] = voicemails;
  const posted = vera.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith(`/api/voicemails/${id}/handled`));
  await row(vera, id).getByRole('button', { name: 'Mark handled' }).click();
  const request = await posted;
  assert.equal(request.postData(), '{}');
  assert.match(request.headers()['content-type'], /^application\/json/);
  await cell(vera, id, 'handled').filter({ hasText: /^Handled by Vera at \d\d:\d\d$/ }).waitFor({ timeout: LIVE_MS });
  await cell(otto, id, 'handled').filter({ hasText: /^Handled by Vera at \d\d:\d\d$/ }).waitFor({ timeout: LIVE_MS });
  assert.equal(await row(otto, id).getByRole('button', { name: 'Mark handled' }).count(), 0);
  const { calls } = await api('otto', 'GET', '/api/history?outcome=voicemail');
  assert.equal(calls.find((c) => c.id === id).voicemailHandledBy, 'vera');
  await screenshot(otto, 'voicemail-handled');

  // "Unhandled only": the handled row hides, the other stays.
  await otto.getByLabel('Unhandled only').check();
  assert.equal(await row(otto, id).isHidden(), true);
  assert.equal(await row(otto, voicemails[1].id).isVisible(), true);
  assert.equal(await otto.locator('#voicemail-status').textContent(), 'All 2 voicemails, 1 not handled (the handled ones hidden).');
  await otto.getByLabel('Unhandled only').uncheck();
  assert.equal(await row(otto, id).isVisible(), true);
});

test('on a narrow screen the table scrolls inside the view, the page does not', async () => {
  const narrow = await openAgent('otto', { width: 390, height: 844 });
  try {
    const { page } = narrow;
    await page.getByRole('button', { name: 'Voicemail' }).click();
    await row(page, voicemails[1].id).waitFor({ timeout: 5000 });
    const sideways = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(sideways <= 0, `${sideways} px sideways`);
    await screenshot(page, 'voicemail-narrow');
  } finally {
    await narrow.context.close();
  }
});

/** `name`'s request for a voicemail of the organisation above, with its bearer token. */
const ask = (name, method, urlPath) => fetch(`${BASE}${urlPath}`, {
  method,
  headers: { Authorization: `Bearer ${TOKENS[name]}`, ...(method === 'POST' ? { 'Content-Type': 'application/json' } : {}) },
  body: method === 'POST' ? '{}' : undefined,
});

test('an agent of another organisation gets 404 for the audio and for "handled"', async () => {
  for (const { id } of voicemails) {
    for (const [method, urlPath] of [['GET', `/api/voicemails/${id}/audio`], ['POST', `/api/voicemails/${id}/handled`]]) {
      const response = await ask('eli', method, urlPath);
      assert.equal(response.status, 404, `${method} ${urlPath}`);
      assert.equal((await response.json()).error.code, 'voicemail_not_found');
    }
  }
  // Eli's attempt changed nothing: the second voicemail is still unhandled.
  const { calls } = await api('vera', 'GET', '/api/history?outcome=voicemail');
  assert.equal(calls.find((c) => c.id === voicemails[1].id).voicemailHandledBy, null);
});

test('the audio is the recording\'s bytes alone: no Twilio URL, no credentials', async () => {
  const response = await ask('otto', 'GET', `/api/voicemails/${voicemails[0].id}/audio`);
  assert.equal(response.status, 200);
  const type = response.headers.get('content-type');
  assert.match(type, /^audio\/(wav|mpeg)$/);
  const bytes = Buffer.from(await response.arrayBuffer());
  assert.equal(Number(response.headers.get('content-length')), bytes.length);
  if (type === 'audio/wav') {
    assert.equal(bytes.subarray(0, 4).toString('latin1'), 'RIFF');
    assert.equal(bytes.subarray(8, 12).toString('latin1'), 'WAVE');
  }
  const headers = [...response.headers].map(([name, value]) => `${name}: ${value}`).join('\n');
  assert.equal(response.headers.get('location'), null);
  assert.equal(response.headers.get('set-cookie'), null);
  for (const text of [headers, bytes.toString('latin1')]) {
    assert.doesNotMatch(text, /twilio|https?:\/\/|AC[0-9a-f]{32}|Basic [A-Za-z0-9+/=]{8,}|Bearer/i);
  }
  assert.deepEqual(pageProblems, []);
});
