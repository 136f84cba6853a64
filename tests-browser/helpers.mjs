// What the browser tests share: the service's URL and the demo agents' tokens (from
// scripts/test-browser.sh), Chromium, signed-in pages, the agents' API, and waits on the lot.

import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '..');
const ARTIFACTS = process.env.CALLPARK_ARTIFACTS || path.join(ROOT, 'target', 'browser-artifacts');
export const BASE = process.env.CALLPARK_URL;
export const TOKENS = {
  alice: process.env.CALLPARK_TOKEN_ALICE,
  bob: process.env.CALLPARK_TOKEN_BOB,
  carol: process.env.CALLPARK_TOKEN_CAROL,
};
if (!BASE || !TOKENS.alice || !TOKENS.bob || !TOKENS.carol) {
  throw new Error('CALLPARK_URL and CALLPARK_TOKEN_{ALICE,BOB,CAROL} are not set: run scripts/test-browser.sh');
}

/** Live updates must show on every page within this long. */
export const LIVE_MS = 1000;
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` (async, truthy when done) every 50 ms until it is, for at most `ms`. */
export async function until(what, check, ms = 10000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const done = await check();
    if (done) return done;
    assert.ok(Date.now() < deadline, `in time: ${what}`);
    await sleep(50);
  }
}

/** @type {import('playwright-core').Browser} */
let browser;
/** What must never happen on any page: a script error or a CSP violation. */
export const pageProblems = [];

/** Starts Chromium; every helper that opens a page uses it. */
export async function launchBrowser() {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
  });
  return browser;
}

/**
 * A signed-in page of `name`; `init` runs in the page before its scripts (a stand-in for a
 * browser API the test controls).
 */
export async function openAgent(name, viewport = { width: 1280, height: 800 }, base = BASE, { init } = {}) {
  const context = await browser.newContext({ viewport });
  if (init) await context.addInitScript(init);
  const page = await context.newPage();
  page.on('pageerror', (error) => pageProblems.push(`${name}: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) {
      pageProblems.push(`${name}: ${message.text()}`);
    }
  });
  await page.goto(`${base}/#token=${TOKENS[name]}`);
  await page.locator('#conn[data-state="live"]').waitFor({ timeout: 5000 });
  await page.locator('#grid li.slot').first().waitFor();
  return { name, context, page };
}

/** The agent's API, as the sandbox's simulated telephony or another agent's client would use it. */
export async function api(name, method, urlPath, body) {
  const response = await fetch(`${BASE}${urlPath}`, {
    method,
    headers: {
      Authorization: `Bearer ${TOKENS[name]}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error(`${method} ${urlPath}: ${response.status} ${text}`);
  return data;
}

/**
 * A simulated caller rings `name`, whose browser answers; returns its current call. The service
 * learns of the answer from Twilio's call-status callback, which the sandbox (like Twilio) may
 * deliver up to a second late: the call is the agent's once the service says so.
 */
export async function callFor(name) {
  const { callSid } = await api(name, 'POST', '/api/sandbox/calls', {});
  const until = Date.now() + 3000;
  for (;;) {
    const me = await api(name, 'GET', '/api/me');
    if (me.currentCall && me.currentCall.pstnCallSid === callSid) return me.currentCall;
    assert.ok(Date.now() < until, `${name} has the simulated call ${callSid}: ${JSON.stringify(me.currentCall)}`);
    await sleep(50);
  }
}

export const slot = (page, n) => page.locator(`#grid li.slot[data-slot="${n}"]`);

export async function waitSlotState(page, n, state, timeout = LIVE_MS) {
  await page.locator(`#grid li.slot[data-slot="${n}"][data-state="${state}"]`).waitFor({ timeout });
}

export async function waitSlotCaller(page, n, number, timeout = LIVE_MS) {
  await slot(page, n).locator(`.caller-primary[data-caller-number="${number}"]`).waitFor({ timeout });
}

/** "On hold m:ss" as seconds. */
export async function holdSeconds(page, n) {
  const text = (await slot(page, n).locator('.timer-value').textContent()).trim();
  const parts = text.split(':').map(Number);
  assert.ok(parts.every(Number.isFinite), `a timer reading: ${text}`);
  return parts.reduce((total, part) => total * 60 + part, 0);
}

/** A screenshot of the page to the artifacts; `options` are Playwright's (`fullPage`). */
export async function screenshot(page, name, options = {}) {
  await mkdir(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ ...options, path: file });
  return file;
}

/** Waits until the service says the agent is free again, with no current call. */
export async function waitAvailable(name) {
  const until = Date.now() + 2000;
  for (;;) {
    const me = await api(name, 'GET', '/api/me');
    if (me.status === 'available' && me.currentCall === null) return;
    if (Date.now() > until) throw new Error(`${name} is still ${me.status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The caller of a parked call or of an agent's call hangs up; the lot must free the slot. */
export async function hangUp(pstnCallSid) {
  await api('alice', 'POST', `/api/sandbox/calls/${pstnCallSid}/hangup`);
}


/**
 * An organisation of the test's own through the admin API (scripts/test-browser.sh sets its
 * token), with agents whose tokens join TOKENS: openAgent and api take their names. Each agent
 * is given by its display name, or by `{ displayName, role }` (role: "agent" or "supervisor").
 */
export async function createOrg(org, agents) {
  const admin = process.env.CALLPARK_ADMIN_TOKEN;
  if (!admin) throw new Error('CALLPARK_ADMIN_TOKEN is not set: run scripts/test-browser.sh');
  const post = async (urlPath, body) => {
    const response = await fetch(`${BASE}${urlPath}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`POST ${urlPath}: ${response.status} ${text}`);
    return JSON.parse(text);
  };
  await post('/admin/orgs', org);
  for (const [identity, agent] of Object.entries(agents)) {
    const fields = typeof agent === 'string' ? { displayName: agent } : agent;
    const { token } = await post(`/admin/orgs/${org.slug}/agents`, { identity, ...fields });
    TOKENS[identity] = token;
  }
}

/** The agent's caller, parked in a slot by the API (as another agent's page would). */
export async function parkFor(name, n) {
  const call = await callFor(name);
  await api(name, 'POST', '/api/park', { callSid: call.callSid, slot: n });
  return call;
}
