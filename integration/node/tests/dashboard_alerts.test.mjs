// The Settings page's Webhook alerts section in a real browser (Debian's
// chromium through playwright-core) against a real `mcpbox up`: the admin adds
// a webhook by the accessible names, sees it listed only by the start of its
// URL (a chat webhook URL is its channel's credential: the secret path is on
// no page and in no API answer), sends a test alert that a loopback receiver
// this test runs gets, sees a URL the alerts actor refuses reported, and
// removes the hook. The page raises no script error, dialog or CSP violation.
//   MCPBOX_BUILD_DIR=/path/build ./node_modules/.bin/node --test tests/dashboard_alerts.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { startUp, waitFor } from '../lib/mcpbox.mjs';
import { launch, instrumentedPage } from '../lib/browser.mjs';

const ADMIN = { username: 'alertadmin', password: 'alerts-page-password-1' };
const SECRET = 'T00000000B11111111XXXXsecretXXXXzzzz';
let up;
let base;
let browser;
let page;
let events;
let receiver;
let receiverUrl;
const received = [];

before(async () => {
  up = await startUp();
  base = `http://127.0.0.1:${up.port}`;
  const r = await fetch(`${base}/api/auth/setup`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(ADMIN),
  });
  assert.equal(r.status, 201, await r.text());
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => { received.push({ path: req.url, body }); res.writeHead(200); res.end(); });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${receiver.address().port}`;
  browser = await launch();
  const context = await browser.newContext({ viewport: { width: 360, height: 800 } });
  ({ page, events } = await instrumentedPage(context));
});

after(async () => {
  try { await browser?.close(); } catch {}
  receiver?.close();
  if (up) {
    const res = await up.stop();
    const log = up.log();
    up.cleanup();
    assert.deepEqual(res, { code: 0, signal: null }, `mcpbox up did not exit 0:\n${log.slice(-4000)}`);
  }
});

test('a webhook added on the Settings page is shown by its start only, tested and removed', async () => {
  await page.goto(`${base}/#/login`);
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor({ timeout: 10000 });
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings', exact: true }).click();
  await page.getByRole('heading', { level: 2, name: 'Webhook alerts' }).waitFor({ timeout: 10000 });
  await page.getByText('No webhook alerts.').waitFor();

  // a URL the alerts actor refuses (credentials in it): said, nothing added
  await page.getByLabel('Webhook URL').fill('http://user:pw@127.0.0.1/x');
  await page.getByRole('button', { name: 'Add webhook' }).click();
  await page.getByText(/no user or password in the URL/).first().waitFor({ timeout: 5000 });
  assert.equal(await page.getByRole('table', { name: 'Webhooks' }).count(), 0);

  await page.getByLabel('Webhook URL').fill(`${receiverUrl}/services/${SECRET}`);
  await page.getByLabel('Format').selectOption('slack');
  await page.getByRole('checkbox', { name: 'circuit.opened' }).check();
  await page.getByRole('button', { name: 'Add webhook' }).click();
  const table = page.getByRole('table', { name: 'Webhooks' });
  await table.waitFor({ timeout: 5000 });
  await table.getByRole('cell', { name: 'slack', exact: true }).waitFor();
  await table.getByRole('cell', { name: 'circuit.opened', exact: true }).waitFor();
  const shown = (await table.locator('tbody code').first().textContent()).trim();
  assert.ok(shown.startsWith(`${receiverUrl}/servi`) && shown.endsWith('…'), shown);
  assert.ok(!(await page.content()).includes(SECRET), 'the secret path is on the page');

  await page.getByRole('button', { name: `Send a test alert to ${shown}` }).click();
  const got = await waitFor(() => received.find((r) => r.path === `/services/${SECRET}`),
                            { timeout: 15000, what: 'the test alert at the receiver' });
  assert.match(JSON.parse(got.body).text, /alert\.test/);

  // after a reload too, the URL is shown by its start only
  await page.reload();
  await page.getByRole('table', { name: 'Webhooks' }).waitFor({ timeout: 10000 });
  assert.ok(!(await page.content()).includes(SECRET));
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the Settings page overflows 360 px by ${overflow} px`);

  await page.getByRole('button', { name: `Remove webhook ${shown}` }).click();
  await page.getByText('No webhook alerts.').waitFor({ timeout: 5000 });
  assert.deepEqual(events.errors, []);
  assert.deepEqual(events.dialogs, []);
  assert.deepEqual(await page.evaluate(() => window.__violations), []);
});
