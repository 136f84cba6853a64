// The supervisor's "Lot settings": alice, who supervises the demo organisation, reads its
// settings on her page and changes them (PATCH /admin/orgs/demo with only what changed); the
// lot on her page follows its new size; a change the service refuses (a lot that would shrink
// below a parked call, a malformed number) says why, keeps what she typed and changes nothing.
// Bob, an agent, sees no such panel. The demo organisation is shared by every test file: its
// settings are put back as they were at the end (8 slots, no language).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import {
  BASE, TOKENS, api, hangUp, launchBrowser, openAgent, pageProblems, parkFor, screenshot, waitSlotState,
} from './helpers.mjs';

let browser;
const agents = {};
/** The demo organisation's settings before the tests, to put back after. */
let original;

/** The settings as the service has them. */
const settings = () => api('alice', 'GET', '/admin/orgs/demo');

/** Alice's settings form, loaded. */
async function settingsForm() {
  const { page } = agents.alice;
  await page.getByRole('heading', { name: 'Lot settings' }).waitFor({ timeout: 3000 });
  await page.locator('#settings-fields:not([disabled])').waitFor({ timeout: 3000 });
  return page;
}

/** The PATCH the page sends while `action` runs, and its body. */
async function patchDuring(page, action) {
  const request = page.waitForRequest((r) => r.method() === 'PATCH' && r.url().endsWith('/admin/orgs/demo'), { timeout: 3000 });
  await action();
  return (await request).postDataJSON();
}

before(async () => {
  browser = await launchBrowser();
  original = await settings();
  assert.equal(original.slots, 8, 'the demo lot has 8 slots');
  agents.alice = await openAgent('alice');
  agents.bob = await openAgent('bob');
});

after(async () => {
  // Every caller leaves the lot, and the demo organisation's settings are as they were.
  const lot = await api('alice', 'GET', '/api/lot');
  for (const s of lot.slots) if (s.call) await hangUp(s.call.pstnCallSid);
  const now = await settings();
  if (now.slots !== original.slots || now.language !== original.language || now.numbers.join() !== original.numbers.join()) {
    await api('alice', 'PATCH', '/admin/orgs/demo', { slots: original.slots, language: original.language, numbers: original.numbers });
  }
  if (browser) await browser.close();
});

test("an agent's page has no Lot settings, and the service refuses them the settings", async () => {
  const { page } = agents.bob;
  await page.getByRole('heading', { name: 'Team' }).waitFor();
  assert.equal(await page.locator('#org-settings').isHidden(), true);
  assert.equal(await page.getByRole('heading', { name: 'Lot settings' }).count(), 0);
  const response = await fetch(`${BASE}/admin/orgs/demo`, { headers: { Authorization: `Bearer ${TOKENS.bob}` } });
  assert.equal(response.status, 403);
});

test('the supervisor reads the settings as the service has them', async () => {
  const page = await settingsForm();
  assert.equal(await page.getByLabel('Organisation name').inputValue(), original.name);
  assert.equal(await page.getByLabel('Lot size (slots)').inputValue(), '8');
  assert.equal(await page.getByLabel('Hold time (seconds)').inputValue(), String(original.maxParkSeconds));
  assert.equal(await page.getByLabel('When the hold time is up').inputValue(), 'ringback');
  assert.equal(await page.getByLabel('Automatic slot').inputValue(), 'first_free');
  assert.equal(await page.getByLabel('Phone numbers').inputValue(), original.numbers.join('\n'));
  assert.equal(await page.getByLabel('Announcement').inputValue(), original.announcement);
  assert.equal(await page.getByLabel('Hold music URL').inputValue(), '', 'the default music');
  assert.equal(await page.getByLabel('Voice', { exact: true }).inputValue(), '', 'the default voice');
  assert.equal(await page.getByLabel('Language').inputValue(), '', "the voice's own");
  assert.match(await page.locator('#settings-summary').textContent(), /^8 slots · hold up to 3:00, then ring the parker back$/);
});

test('Save with nothing changed sends nothing', async () => {
  const page = await settingsForm();
  let patched = false;
  const watch = (r) => {
    if (r.method() === 'PATCH') patched = true;
  };
  page.on('request', watch);
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('#settings-status', { hasText: 'No changes to save.' }).waitFor({ timeout: 2000 });
  page.off('request', watch);
  assert.equal(patched, false);
});

test('Enter saves only what changed: the lot grows to 10 slots and speaks en-GB', async () => {
  const page = await settingsForm();
  await page.getByLabel('Lot size (slots)').fill('10');
  await page.getByLabel('Language').fill(' en-GB ');
  const body = await patchDuring(page, () => page.getByLabel('Language').press('Enter'));
  assert.deepEqual(body, { slots: 10, language: 'en-GB' });
  await page.locator('#settings-status', { hasText: 'Saved.' }).waitFor({ timeout: 3000 });
  assert.equal(await page.locator('#settings-error').isHidden(), true);
  assert.equal(await page.getByLabel('Language').inputValue(), 'en-GB', 'the value as the service returned it');
  assert.match(await page.locator('#settings-summary').textContent(), /^10 slots/);
  // The lot on the page has the new size at once.
  await page.locator('#grid li.slot[data-slot="10"]').waitFor({ timeout: 1000 });
  assert.equal(await page.locator('#grid li.slot').count(), 10);
  assert.match(await page.locator('#lot-summary').textContent(), /of 10 slots free/);
  const now = await settings();
  assert.equal(now.slots, 10);
  assert.equal(now.language, 'en-GB');
  assert.equal(now.name, original.name, 'nothing else changed');
  assert.deepEqual(now.numbers, original.numbers);
  await page.locator('#org-settings').scrollIntoViewIfNeeded();
  await screenshot(page, 'settings-saved');
});

test('a lot that would shrink below a parked call is refused in words, and nothing changes', async () => {
  const page = await settingsForm();
  const call = await parkFor('bob', 10);
  await waitSlotState(page, 10, 'parked', 3000);
  await page.getByLabel('Lot size (slots)').fill('8');
  await page.getByLabel('Language').fill('');
  const body = await patchDuring(page, () => page.getByRole('button', { name: 'Save' }).click());
  assert.deepEqual(body, { slots: 8, language: null });
  const error = page.locator('#settings-error');
  await error.filter({ hasText: 'Slot 10 is occupied: the lot cannot shrink below it.' }).waitFor({ timeout: 3000 });
  assert.equal(await error.getAttribute('role'), 'alert');
  assert.match(await error.textContent(), /^Could not save the settings\. Slot 10 is occupied/);
  const size = page.getByLabel('Lot size (slots)');
  assert.equal(await size.getAttribute('aria-invalid'), 'true');
  assert.match(await size.getAttribute('aria-describedby'), /settings-error/);
  assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.id), 'set-slots');
  // What she typed stays; the lot and the status do not change.
  assert.equal(await size.inputValue(), '8');
  assert.equal(await page.getByLabel('Language').inputValue(), '');
  assert.equal(await page.locator('#settings-status').textContent(), '');
  assert.equal(await page.locator('#grid li.slot').count(), 10);
  await page.locator('#org-settings').scrollIntoViewIfNeeded();
  await screenshot(page, 'settings-refused');

  const now = await settings();
  assert.equal(now.slots, 10, 'nothing of the change was made');
  assert.equal(now.language, 'en-GB');
  await page.reload();
  await page.locator('#conn[data-state="live"]').waitFor({ timeout: 5000 });
  await settingsForm();
  assert.equal(await page.getByLabel('Lot size (slots)').inputValue(), '10');
  assert.equal(await page.getByLabel('Language').inputValue(), 'en-GB');
  assert.equal(await page.locator('#settings-error').isHidden(), true);
  assert.equal(await page.locator('#grid li.slot').count(), 10);
  await waitSlotState(page, 10, 'parked');

  await hangUp(call.pstnCallSid);
  await waitSlotState(page, 10, 'free', 3000);
});

test("a malformed number is the service's to refuse: its message shows on the numbers", async () => {
  const page = await settingsForm();
  await page.getByLabel('Phone numbers').fill(`${original.numbers.join('\n')}\n5550100`);
  const body = await patchDuring(page, () => page.getByRole('button', { name: 'Save' }).click());
  assert.deepEqual(body, { numbers: [...original.numbers, '5550100'] });
  await page.locator('#settings-error', { hasText: "Could not save the settings. Invalid phone number: must start with '+' (E.164)." })
    .waitFor({ timeout: 3000 });
  assert.equal(await page.getByLabel('Phone numbers').getAttribute('aria-invalid'), 'true');
  assert.deepEqual((await settings()).numbers, original.numbers);
  // A value the page can tell is wrong is not sent at all.
  await page.getByLabel('Phone numbers').fill(original.numbers.join('\n'));
  await page.getByLabel('Lot size (slots)').fill('0');
  await page.getByLabel('Lot size (slots)').press('Enter');
  await page.locator('#settings-error', { hasText: 'The lot size is a whole number of slots from 1 to 999.' }).waitFor({ timeout: 1000 });
  assert.equal(await page.getByLabel('Lot size (slots)').getAttribute('aria-invalid'), 'true');
  assert.equal(await page.getByLabel('Phone numbers').getAttribute('aria-invalid'), null);
});

test("back to 8 slots and the voice's own language: the lot shrinks on the page", async () => {
  const page = await settingsForm();
  await page.getByLabel('Lot size (slots)').fill('8');
  await page.getByLabel('Language').fill('');
  const body = await patchDuring(page, () => page.getByRole('button', { name: 'Save' }).click());
  assert.deepEqual(body, { slots: 8, language: null });
  await page.locator('#settings-status', { hasText: 'Saved.' }).waitFor({ timeout: 3000 });
  assert.equal(await page.locator('#settings-error').isHidden(), true);
  assert.equal(await page.getByLabel('Lot size (slots)').getAttribute('aria-invalid'), null);
  assert.equal(await page.locator('#grid li.slot').count(), 8);
  const now = await settings();
  assert.equal(now.slots, 8);
  assert.equal(now.language, null);
  assert.deepEqual(pageProblems, []);
});
