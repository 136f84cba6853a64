// Issue 13, item 7: the supervisor's "Manage team" section. In an organisation of its own, the
// supervisor (sue) adds an agent with the page's form and reads its sign-in link, shown once;
// the new agent opens the link in a browser of its own and comes online on sue's list; sue
// deactivates it (asked first) and its page falls back to the sign-in form. A plain agent
// (pat) sees no such section, and the service refuses it the admin API.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { BASE, TOKENS, createOrg, launchBrowser, openAgent, pageProblems, screenshot } from './helpers.mjs';

let browser;
const agents = {};
/** The new agent's page: a browser context (so a session cookie) of its own. */
let newbie;

before(async () => {
  browser = await launchBrowser();
  await createOrg(
    { slug: 'managed', name: 'Managed', slots: 2, numbers: ['+15005550177'] },
    { sue: { displayName: 'Sue', role: 'supervisor' }, pat: 'Pat' },
  );
  agents.sue = await openAgent('sue');
  agents.pat = await openAgent('pat');
});

after(async () => {
  if (browser) await browser.close();
});

/** Sue's row for an agent. */
const row = (identity) => agents.sue.page.locator(`#admin-agents tr[data-identity="${identity}"]`);

test("a plain agent's page has no Manage team section, and the admin API refuses them", async () => {
  const { page } = agents.pat;
  await page.getByRole('heading', { name: 'Team' }).waitFor();
  assert.equal(await page.getByRole('heading', { name: 'Manage team' }).count(), 0);
  assert.equal(await page.locator('#team-admin').isHidden(), true);
  const response = await fetch(`${BASE}/admin/orgs/managed/agents`, { headers: { Authorization: `Bearer ${TOKENS.pat}` } });
  assert.equal(response.status, 403);
});

test("the supervisor's page lists the organisation's agents, with their status and role", async () => {
  const { page } = agents.sue;
  await page.getByRole('heading', { name: 'Manage team' }).waitFor({ timeout: 3000 });
  // Pat's page may sign in after the list was first read: the list follows within seconds.
  await row('pat').filter({ hasText: 'Available' }).waitFor({ timeout: 5000 });
  assert.match(await row('pat').textContent(), /Pat.*Available/);
  assert.equal(await page.getByLabel('Role of Pat').inputValue(), 'agent');
  assert.equal(await page.getByLabel('Role of Sue').inputValue(), 'supervisor');
  assert.equal(await page.getByRole('button', { name: 'Deactivate Pat' }).count(), 1);
  assert.equal(await page.getByRole('button', { name: 'Deactivate Sue' }).count(), 0, 'not oneself');
});

test('the form refuses an invalid identity, or one taken, in words', async () => {
  const { page } = agents.sue;
  await page.getByLabel('Identity').fill('new agent');
  await page.getByRole('button', { name: 'Add agent' }).click();
  const error = page.locator('#add-agent-error');
  await error.waitFor();
  assert.match(await error.textContent(), /only have letters, digits and underscores/);
  assert.equal(await page.getByLabel('Identity').getAttribute('aria-invalid'), 'true');
  await page.getByLabel('Identity').fill('pat');
  await page.getByRole('button', { name: 'Add agent' }).click();
  await page.locator('#add-agent-error', { hasText: 'already an agent “pat”' }).waitFor({ timeout: 3000 });
});

test('a role select changes the role', async () => {
  const { page } = agents.sue;
  await page.getByLabel('Role of Pat').selectOption('supervisor');
  await page.locator('#announcer', { hasText: 'Pat is now a supervisor.' }).waitFor({ timeout: 3000 });
  await page.getByLabel('Role of Pat').selectOption('agent');
  await page.locator('#announcer', { hasText: 'Pat is now an agent.' }).waitFor({ timeout: 3000 });
  const list = await (await fetch(`${BASE}/admin/orgs/managed/agents`, {
    headers: { Authorization: `Bearer ${TOKENS.sue}` },
  })).json();
  assert.equal(list.find((a) => a.identity === 'pat').role, 'agent');
});

test('an agent added with the form signs in with its link and comes online on the list', async () => {
  const { page } = agents.sue;
  await page.getByLabel('Identity').fill('newbie');
  await page.getByLabel('Display name (optional)').fill('Newbie');
  await page.getByLabel('Role', { exact: true }).selectOption('agent');
  await page.getByRole('button', { name: 'Add agent' }).click();
  const linkInput = page.getByLabel('Sign-in link for Newbie');
  await linkInput.waitFor({ timeout: 3000 });
  const link = await linkInput.inputValue();
  assert.match(link, new RegExp(`^${BASE.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/#token=cpk_[0-9a-f]+$`));
  assert.equal(await page.locator('#add-agent-error').isHidden(), true);
  assert.equal(await page.getByLabel('Identity').inputValue(), '', 'the form is reset');
  await page.getByRole('button', { name: 'Copy' }).waitFor();
  await row('newbie').waitFor({ timeout: 3000 });
  assert.match(await row('newbie').textContent(), /Newbie.*newbie.*Offline/);
  await screenshot(page, 'supervisor-new-agent');

  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const newPage = await context.newPage();
  newPage.on('pageerror', (e) => pageProblems.push(`newbie: ${e.message}`));
  await newPage.goto(link);
  await newPage.locator('#conn[data-state="live"]').waitFor({ timeout: 5000 });
  assert.equal(await newPage.locator('#team-admin').isHidden(), true, 'a plain agent');
  newbie = { context, page: newPage };

  await row('newbie').locator('.pill', { hasText: 'Available' }).waitFor({ timeout: 5000 });
  // "Done" hides the link: it is never shown again.
  await page.getByRole('button', { name: 'Done' }).click();
  assert.equal(await page.locator('#new-link').isHidden(), true);
  assert.equal(await page.locator('#new-link-value').inputValue(), '');
});

test('deactivating asks first, then the list says so and the agent is signed out', async () => {
  const { page } = agents.sue;
  assert.ok(newbie, 'the previous test signed the new agent in');
  await page.getByRole('button', { name: 'Deactivate Newbie' }).click();
  const dialog = page.getByRole('dialog', { name: 'Deactivate Newbie?' });
  await dialog.waitFor();
  // Cancel leaves the agent be, and the focus back on its button.
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.getAttribute('aria-label')), 'Deactivate Newbie');
  assert.equal(await row('newbie').getAttribute('data-active'), 'true');

  await page.keyboard.press('Enter');
  await dialog.waitFor();
  await dialog.getByRole('button', { name: 'Deactivate Newbie' }).click();
  await row('newbie').locator('.pill', { hasText: 'Deactivated' }).waitFor({ timeout: 3000 });
  assert.equal(await row('newbie').getAttribute('data-active'), 'false');
  assert.equal(await page.getByRole('button', { name: 'Deactivate Newbie' }).count(), 0);
  assert.equal(await page.getByLabel('Role of Newbie').isDisabled(), true);
  await screenshot(page, 'supervisor-deactivated');

  // Its page notices when its live stream closes and the service no longer knows the session.
  await newbie.page.getByRole('heading', { name: 'Sign in to the parking lot' }).waitFor({ timeout: 10000 });
  assert.match(await newbie.page.locator('#signin-error').textContent(), /Your session ended/);
  await newbie.context.close();
  assert.deepEqual(pageProblems, []);
});
