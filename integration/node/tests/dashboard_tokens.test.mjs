// The Settings page's Service tokens section in a real browser (Debian's
// chromium through playwright-core) against a real `mcpbox up` with its remote
// listener: the admin makes a token by the accessible names, it is shown once
// (a reload shows it nowhere), it works as a bearer credential on the remote
// listener, and the Revoke button ends it (401 there at once).
//   MCPBOX_BUILD_DIR=/path/build ./node_modules/.bin/node --test tests/dashboard_tokens.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startUp, freePort } from '../lib/mcpbox.mjs';
import { launch, instrumentedPage } from '../lib/browser.mjs';

const ADMIN = { username: 'tokadmin', password: 'tokens-page-password-1' };
let up;
let base;
let remote;
let browser;
let page;
let events;

before(async () => {
  const remotePort = await freePort();
  up = await startUp({ conf: `remote_listen = 127.0.0.1:${remotePort}\n` });
  base = `http://127.0.0.1:${up.port}`;
  remote = `http://127.0.0.1:${remotePort}/mcp`;
  const r = await fetch(`${base}/api/auth/setup`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(ADMIN),
  });
  assert.equal(r.status, 201, await r.text());
  browser = await launch();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  ({ page, events } = await instrumentedPage(context));
});

after(async () => {
  try { await browser?.close(); } catch {}
  if (up) {
    const res = await up.stop();
    const log = up.log();
    up.cleanup();
    assert.deepEqual(res, { code: 0, signal: null }, `mcpbox up did not exit 0:\n${log.slice(-4000)}`);
  }
});

/** initialize on the remote listener with this bearer token: the HTTP status. */
async function remoteStatus(token) {
  const r = await fetch(remote, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream',
               Authorization: `Bearer ${token}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'b', version: '1' } } }),
  });
  await r.text();
  return r.status;
}

test('a token made on the Settings page is shown once, works remotely, and is revoked there', async () => {
  await page.goto(`${base}/#/login`);
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor({ timeout: 10000 });
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings', exact: true }).click();
  await page.getByRole('heading', { level: 2, name: 'Service tokens' }).waitFor({ timeout: 10000 });
  await page.getByText('No service tokens.').waitFor();

  await page.getByLabel('New token name').fill('browser-phone');
  await page.getByRole('button', { name: 'Create token' }).click();
  const shown = page.getByLabel('Token browser-phone', { exact: true });
  await shown.waitFor({ timeout: 5000 });
  const token = await shown.inputValue();
  assert.match(token, /^mcpbox_st_[A-Za-z0-9_-]{43}$/);
  const table = page.getByRole('table', { name: 'Live service tokens' });
  await table.getByRole('cell', { name: 'browser-phone', exact: true }).waitFor();
  assert.equal(await remoteStatus(token), 200);

  // shown once: after a reload it is nowhere on the page
  await page.reload();
  await page.getByRole('heading', { level: 2, name: 'Service tokens' }).waitFor({ timeout: 10000 });
  await page.getByRole('table', { name: 'Live service tokens' }).waitFor();
  assert.ok(!(await page.content()).includes(token), 'the token is shown again after a reload');
  assert.equal(await page.getByLabel('Token browser-phone', { exact: true }).count(), 0);

  await page.getByRole('button', { name: 'Revoke token browser-phone' }).click();
  await page.getByText('No service tokens.').waitFor({ timeout: 5000 });
  assert.equal(await remoteStatus(token), 401);
  assert.deepEqual(events.errors, []);
  assert.deepEqual(events.dialogs, []);
});
