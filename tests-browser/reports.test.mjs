// The History view (every agent) and the Reports view (supervisors only). In an organisation of
// its own whose calls wait 6 s before a ring-back, the sandbox plays 21 call lives:
//
// - andy parks a call and rita retrieves it; rita parks one and andy retrieves it;
// - andy parks 17 calls whose callers hang up;
// - rita parks one and, available when its time is up, is rung back and answers (a ring-back);
// - andy parks one and is on another call when its time is up: it goes to voicemail.
//
// rita's Reports then say so — figures, per-agent table, charts drawn under the page's CSP —
// and andy, a plain agent, has no Reports but pages and filters the History and downloads its
// CSV. With CALLPARK_SCREENSHOTS=1 the Reports view is saved as docs/reports.png.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, readFile } from 'node:fs/promises';
import path from 'node:path';

import {
  BASE, ROOT, TOKENS, api, callFor, createOrg, launchBrowser, openAgent, pageProblems, screenshot, until,
} from './helpers.mjs';
import { holdTime } from '../crates/callpark-http/ui/reports-format.js';

/** Long enough for a park and its hang-up or retrieve on a busy machine; short for the ring-back. */
const HOLD_S = 6;
const HUNG_UP = 17;
const PARKS = HUNG_UP + 4;
const VENDOR = path.join(ROOT, 'crates', 'callpark-http', 'ui', 'vendor', 'uplot');

let browser;
const agents = {};

/** The organisation's lot as `name` reads it: the slot holding a call, or undefined. */
const slotOf = async (name, pstnCallSid) => (await api(name, 'GET', '/api/lot')).slots
  .find((s) => s.call && s.call.pstnCallSid === pstnCallSid);

/** The sandbox's caller hangs up, asked as an agent who may: any, while the call is in the lot; else the agent on it. */
const hangUpCaller = (pstnCallSid, asker = 'rita') => api(asker, 'POST', `/api/sandbox/calls/${pstnCallSid}/hangup`);

/** A simulated call of `name`'s, parked in slot `n` and parked for sure: its caller, and the park's id. */
async function parked(name, n) {
  const call = await callFor(name);
  const { id } = await api(name, 'POST', '/api/park', { callSid: call.callSid, slot: n });
  await until('the call is parked', async () => (await slotOf(name, call.pstnCallSid))?.state === 'parked');
  return { ...call, id };
}

/**
 * Waits until the history says `name` retrieved the call, then its caller hangs up and `name`
 * is free. Now and then (about one retrieve in fifty) the sandbox's caller is gone by itself a
 * moment after the retrieve connected: the history says retrieved all the same, so this test of
 * the page takes it as it comes rather than fail on it.
 */
async function retrievedThenEnded(name, call, ms) {
  await until(`${name} retrieved ${call.id}`, async () => {
    const { calls } = await api(name, 'GET', '/api/history?outcome=retrieved&limit=50');
    return calls.some((c) => c.id === call.id && c.retrievedBy === name);
  }, ms);
  const me = await api(name, 'GET', '/api/me');
  if (me.currentCall && me.currentCall.pstnCallSid === call.pstnCallSid) {
    await hangUpCaller(call.pstnCallSid, name).catch((error) => assert.match(error.message, /"sandbox_error"|"call_not_found"/));
  }
  await until(`${name} is free`, async () => (await api(name, 'GET', '/api/me')).currentCall === null);
}

/** `parker` parks a call and `retriever` takes it from the lot; then its caller hangs up. */
async function parkedAndRetrieved(parker, retriever) {
  const call = await parked(parker, 1);
  await api(retriever, 'POST', '/api/lot/1/retrieve', {});
  await retrievedThenEnded(retriever, call);
}

/** andy parks a call whose caller hangs up while on hold. */
async function parkedAndHungUp() {
  const call = await parked('andy', 2);
  await hangUpCaller(call.pstnCallSid);
  await until('the slot is free', async () => !(await slotOf('andy', call.pstnCallSid)));
}

before(async () => {
  browser = await launchBrowser();
  await createOrg(
    { slug: 'reports', name: 'Reports', slots: 4, numbers: ['+15005550166'], maxParkSeconds: HOLD_S, timeoutAction: 'ringback' },
    { rita: { displayName: 'Rita', role: 'supervisor' }, andy: 'Andy' },
  );
  // Signed in, so available: a ring-back rings only an available parker.
  agents.rita = await openAgent('rita', { width: 1280, height: 900 });
  agents.andy = await openAgent('andy');

  await parkedAndRetrieved('andy', 'rita');
  await parkedAndRetrieved('rita', 'andy');
  for (let i = 0; i < HUNG_UP; i += 1) await parkedAndHungUp();
  // Rita's call rings her back when its time is up; andy is on another call when his is up.
  const ringback = await parked('rita', 3);
  await parked('andy', 4);
  const andysNext = await callFor('andy');
  await retrievedThenEnded('rita', ringback, (HOLD_S + 8) * 1000);
  await until('the voicemail is left', async () => {
    const { calls } = await api('andy', 'GET', '/api/history?outcome=voicemail');
    return calls.length === 1 && calls[0].voicemail;
  }, (HOLD_S + 8) * 1000);
  await hangUpCaller(andysNext.pstnCallSid, 'andy');
});

after(async () => {
  if (browser) await browser.close();
});

/** What the service says the range adds up to, for the figures the test cannot know (the waits). */
const statsOfToday = () => api('rita', 'GET', '/api/stats');

/** A figure of the Reports view, as shown. */
const figure = (page, key) => page.locator(`#reports-totals [data-figure="${key}"] .figure-value`).textContent();

/** How many pixels of a canvas in `selector` are this colour (`#rrggbb`), as drawn. */
const pixelsOf = (page, selector, color) => page.evaluate(([sel, hex]) => {
  const canvas = document.querySelector(`${sel} canvas`);
  if (!canvas || canvas.width === 0) return 0;
  const rgb = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
  let count = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i] === rgb[0] && data[i + 1] === rgb[1] && data[i + 2] === rgb[2] && data[i + 3] === 255) count += 1;
  }
  return count;
}, [selector, color]);

test('the vendored uPlot is the version and the files its README says', async () => {
  const readme = await readFile(path.join(VENDOR, 'README.md'), 'utf8');
  const version = /`uplot` \*\*([0-9.]+)\*\*/.exec(readme);
  assert.ok(version, 'the README names the version');
  const script = await readFile(path.join(VENDOR, 'uPlot.esm.js'), 'utf8');
  assert.match(script, new RegExp(`\\(v${version[1].replace(/\./g, '\\.')}\\)`), 'the script is that version');
  const sums = [...readme.matchAll(/`([0-9a-f]{64})`/g)].map((m) => m[1]);
  for (const [i, file] of ['uPlot.esm.js', 'uPlot.min.css'].entries()) {
    const sha = createHash('sha256').update(await readFile(path.join(VENDOR, file))).digest('hex');
    assert.equal(sha, sums[i], `${file} is the file the README's checksum names`);
  }
  assert.match(await readFile(path.join(VENDOR, 'LICENSE'), 'utf8'), /MIT License/);
  const served = await fetch(`${BASE}/ui/vendor/uplot/uPlot.esm.js`);
  assert.equal(served.status, 200);
  assert.match(served.headers.get('content-type'), /^text\/javascript/);
});

test("a plain agent sees no Reports, and the service refuses them the stats", async () => {
  const { page } = agents.andy;
  await page.getByRole('button', { name: 'History' }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Reports' }).count(), 0);
  const response = await fetch(`${BASE}/api/stats`, { headers: { Authorization: `Bearer ${TOKENS.andy}` } });
  assert.equal(response.status, 403);
});

test("the supervisor's Reports add up what was done", async () => {
  const { page } = agents.rita;
  // The lot's view first, with the supervisor's panels.
  await page.getByRole('heading', { name: 'Manage team' }).waitFor();
  await page.getByRole('button', { name: 'Reports' }).click();
  await page.getByRole('heading', { name: 'Reports', level: 1 }).waitFor();
  await page.locator('#reports-totals [data-figure="parks"] .figure-value', { hasText: String(PARKS) }).waitFor({ timeout: 5000 });
  assert.equal(await page.getByLabel('Range', { exact: true }).inputValue(), '24h');
  assert.equal(await figure(page, 'retrieved'), '3');
  assert.equal(await figure(page, 'abandoned'), String(HUNG_UP));
  assert.equal(await figure(page, 'voicemail'), '1');
  assert.equal(await figure(page, 'ringbacks'), '1');
  assert.equal(await page.locator('#reports-totals [data-figure="failed"]').count(), 0, 'no failed calls, no figure');

  const { totals } = await statsOfToday();
  const waited = totals.timeToRetrieveSeconds;
  assert.equal(await figure(page, 'p50'), holdTime(waited.p50));
  assert.equal(await figure(page, 'p90'), holdTime(waited.p90));
  assert.equal(await figure(page, 'p99'), holdTime(waited.p99));
  assert.equal(await figure(page, 'longest'), holdTime(totals.longestWaitSeconds));
  // The ring-back waited the hold time at least: the slowest retrieve says so.
  assert.ok(waited.p99 >= HOLD_S, JSON.stringify(waited));
  assert.match(await figure(page, 'p99'), /^\d+ s$/);
  assert.equal(await page.locator('#outcomes-caption').textContent(), 'Outcomes per hour (UTC)');
});

test('the per-agent table says who parked and retrieved what', async () => {
  const { page } = agents.rita;
  const cell = (agent, column) => page.locator(`#reports-agents tr[data-agent="${agent}"] [data-column="${column}"]`).textContent();
  await page.locator('#reports-agents tr[data-agent="andy"]').waitFor();
  assert.equal(await page.locator('#reports-agents tr[data-agent="andy"] th').textContent(), 'Andy');
  assert.deepEqual(
    [await cell('andy', 'parked'), await cell('andy', 'retrieved'), await cell('andy', 'abandoned'), await cell('andy', 'voicemail')],
    [String(HUNG_UP + 2), '1', String(HUNG_UP), '1'],
  );
  assert.deepEqual(
    [await cell('rita', 'parked'), await cell('rita', 'retrieved'), await cell('rita', 'abandoned'), await cell('rita', 'voicemail')],
    ['2', '2', '0', '0'],
  );
  const { agents: perAgent } = await statsOfToday();
  for (const { agent, timeToRetrieveSeconds: waited } of perAgent) {
    assert.equal(await cell(agent, 'p50'), holdTime(waited.p50));
    assert.equal(await cell(agent, 'p90'), holdTime(waited.p90));
  }
  // The charts' figures as a table: this hour's bucket holds every call.
  const buckets = page.locator('#reports-buckets tr');
  assert.ok((await buckets.count()) >= 1);
});

test('the charts are drawn on their canvases, under the CSP', async () => {
  const { page } = agents.rita;
  await page.locator('#outcomes-chart canvas').waitFor();
  await page.locator('#retrieve-chart canvas').waitFor();
  assert.ok(await pixelsOf(page, '#outcomes-chart', '#b91c1c') > 20, 'the hung-up bar is drawn');
  assert.ok(await pixelsOf(page, '#outcomes-chart', '#047857') > 20, 'the retrieved bar is drawn');
  assert.ok(await pixelsOf(page, '#retrieve-chart', '#1d4ed8') > 10, 'the p50 point is drawn');
  assert.ok(await pixelsOf(page, '#retrieve-chart', '#b91c1c') > 10, 'the p99 point is drawn');
  const legend = await page.locator('#outcomes-chart .u-legend').textContent();
  for (const label of ['Retrieved', 'Hung up', 'Voicemail', 'Failed']) assert.match(legend, new RegExp(label));
  await page.evaluate(() => window.scrollTo(0, 0));
  const shot = await screenshot(page, 'reports', { fullPage: true });
  if (process.env.CALLPARK_SCREENSHOTS === '1') await copyFile(shot, path.join(ROOT, 'docs', 'reports.png'));
  assert.deepEqual(pageProblems, []);
});

test('another range asks again, by the day', async () => {
  const { page } = agents.rita;
  await page.getByLabel('Range', { exact: true }).selectOption('7d');
  await page.locator('#outcomes-caption', { hasText: 'Outcomes per day (UTC)' }).waitFor({ timeout: 5000 });
  await page.locator('#reports-totals [data-figure="parks"] .figure-value', { hasText: String(PARKS) }).waitFor();
  assert.match(await page.locator('#reports-range-text').textContent(), /UTC, by day$/);
  assert.ok(await pixelsOf(page, '#outcomes-chart', '#b91c1c') > 20, 'drawn again');
  // Back to the lot: the supervisor's panels are there again.
  await page.getByRole('button', { name: 'Parking lot' }).click();
  await page.getByRole('heading', { name: 'Manage team' }).waitFor();
  assert.equal(await page.locator('#reports-view').isHidden(), true);
});

test('on a narrow screen the views fit: their tables scroll inside them, the page does not', async () => {
  const narrow = await openAgent('rita', { width: 390, height: 844 });
  try {
    const { page } = narrow;
    const sideways = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    await page.getByRole('button', { name: 'Reports' }).click();
    await page.locator('#reports-totals [data-figure="parks"] .figure-value', { hasText: String(PARKS) }).waitFor({ timeout: 5000 });
    await page.locator('#outcomes-chart canvas').waitFor();
    assert.ok(await sideways() <= 0, `Reports: ${await sideways()} px sideways`);
    const chart = await page.locator('#outcomes-chart canvas').boundingBox();
    assert.ok(chart && chart.x + chart.width <= 390, `the chart fits: ${JSON.stringify(chart)}`);
    await screenshot(page, 'reports-narrow', { fullPage: true });
    await page.getByRole('button', { name: 'History' }).click();
    await page.locator('#history-status', { hasText: 'The latest 20 calls' }).waitFor({ timeout: 5000 });
    assert.ok(await sideways() <= 0, `History: ${await sideways()} px sideways`);
    await screenshot(page, 'history-narrow');
  } finally {
    await narrow.context.close();
  }
});

/** The History table's rows, as the outcome each says. */
const outcomes = (page) => page.locator('#history-calls tr').evaluateAll((rows) => rows.map((r) => r.dataset.outcome));

test('History pages the calls, newest first, and loads more', async () => {
  const { page } = agents.andy;
  await page.getByRole('button', { name: 'History' }).click();
  await page.locator('#history-status', { hasText: 'The latest 20 calls' }).waitFor({ timeout: 5000 });
  assert.equal(await page.locator('#history-calls tr').count(), 20);
  assert.equal(await page.locator('#lot-view').isHidden(), true, 'the lot gives way to the history');
  const first = page.locator('#history-calls tr').first();
  assert.equal(await first.getAttribute('data-outcome'), 'voicemail', 'newest first');
  assert.equal(await first.locator('[data-column="voicemail"]').textContent(), 'Yes');
  assert.equal(await first.locator('[data-column="parkedBy"]').textContent(), 'Andy');
  const ringback = page.locator('#history-calls tr').nth(1);
  assert.deepEqual(
    [await ringback.locator('[data-column="retrievedBy"]').textContent(), await ringback.locator('[data-column="ringbacks"]').textContent()],
    ['Rita', '1'],
  );
  await screenshot(page, 'history');

  await page.getByRole('button', { name: 'Load more' }).click();
  await page.locator('#history-status', { hasText: `All ${PARKS} calls.` }).waitFor({ timeout: 5000 });
  assert.equal(await page.locator('#history-calls tr').count(), PARKS);
  assert.equal(await page.getByRole('button', { name: 'Load more' }).count(), 0, 'no more to load');
  const oldest = page.locator('#history-calls tr').last();
  assert.deepEqual(
    [await oldest.getAttribute('data-outcome'), await oldest.locator('[data-column="retrievedBy"]').textContent()],
    ['retrieved', 'Rita'],
  );
  const shown = await outcomes(page);
  assert.equal(new Set(shown).size, 3, `retrieved, abandoned, voicemail: ${shown}`);
});

test('History filters by outcome, and the CSV link downloads the same calls', async () => {
  const { page } = agents.andy;
  await page.getByLabel('Outcome', { exact: true }).selectOption('abandoned');
  await page.locator('#history-status', { hasText: `All ${HUNG_UP} calls whose callers hung up.` }).waitFor({ timeout: 5000 });
  assert.deepEqual(await outcomes(page), Array(HUNG_UP).fill('abandoned'));
  assert.equal(await page.locator('#history-calls tr [data-column="outcome"]').first().textContent(), 'Hung up');

  const link = page.getByRole('link', { name: 'Download CSV' });
  assert.equal(await link.getAttribute('href'), '/api/history.csv?outcome=abandoned');
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const csv = await readFile(await download.path(), 'utf8');
  const lines = csv.split('\r\n').filter(Boolean);
  assert.match(lines[0], /^id,slot,caller_number,/);
  assert.equal(lines.length, HUNG_UP + 1, 'a header and a row per call');
  assert.ok(lines.slice(1).every((line) => line.includes(',abandoned,')), 'only the filtered calls');

  await page.getByLabel('Outcome', { exact: true }).selectOption('retrieved');
  await page.locator('#history-status', { hasText: 'All 3 retrieved calls.' }).waitFor({ timeout: 5000 });
  assert.deepEqual(await outcomes(page), ['retrieved', 'retrieved', 'retrieved']);
  const [all] = await Promise.all([page.waitForEvent('download'), page.getByLabel('Outcome', { exact: true }).selectOption('')
    .then(() => page.locator('#history-status', { hasText: 'The latest 20 calls' }).waitFor())
    .then(() => link.click())]);
  assert.equal((await readFile(await all.path(), 'utf8')).split('\r\n').filter(Boolean).length, PARKS + 1);
  assert.deepEqual(pageProblems, []);
});
