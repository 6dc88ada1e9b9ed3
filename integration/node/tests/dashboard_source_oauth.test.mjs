// An OAuth source on a server's page in a real browser (Debian's chromium through
// playwright-core) against a real `mcpbox up`: the source (lib/oauth_mcp_server.mjs,
// the SDK's bearer-auth middleware and authorization server) runs on a loopback
// alias that test builds count as public (MCPBOX_TEST_PUBLIC_NET), reached under
// the allow_all_public network policy. The page shows the source's OAuth state; the Authorize button (found by
// its accessible name) shows the authorization server's address as text to copy;
// opening it (here with fetch, as a browser would follow the redirects) lands on
// the gateway's callback, and the page then shows the source authorized; its
// tools are then discovered, imported, approved and called through /mcp under
// that policy alone (no host approved for the server). At 360 px the section
// does not scroll sideways.
//   MCPBOX_BUILD_DIR=/path/build ./node_modules/.bin/node --test tests/dashboard_source_oauth.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startUp, freePort, mcpbox, waitFor } from '../lib/mcpbox.mjs';
import { launch, instrumentedPage } from '../lib/browser.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const ADMIN = { username: 'oauthadmin', password: 'source-oauth-password-1' };
const ADDRESS = '127.77.0.9';
let up;
let base;
let source;
let browser;
let page;
let client;
let serverId;
let sourceId;
let port;
let asPort;

async function json(pathname, init = {}) {
  const r = await fetch(`${base}${pathname}`, init);
  return { status: r.status, body: await r.json() };
}

async function tool(name, args) {
  const r = await client.callTool({ name, arguments: args });
  assert.equal(r.isError, false, JSON.stringify(r));
  return r.structuredContent ?? JSON.parse(r.content[0].text);
}

before(async () => {
  process.env.MCPBOX_TEST_PUBLIC_NET = '127.77.0.0/16';
  [port, asPort] = [await freePort(), await freePort()];
  source = spawn(process.execPath, [path.join(here, '..', 'lib', 'oauth_mcp_server.mjs'),
    '--address', ADDRESS, '--port', String(port), '--as-port', String(asPort)],
  { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitFor(async () => {
    try { return (await fetch(`http://${ADDRESS}:${port}/_test/status`)).ok; } catch { return false; }
  }, { timeout: 20000, what: 'the OAuth source' });
  up = await startUp();
  base = `http://127.0.0.1:${up.port}`;
  const setup = await json('/api/auth/setup', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(ADMIN),
  });
  assert.equal(setup.status, 201, JSON.stringify(setup.body));
  client = new Client({ name: 'mcpbox-source-oauth-e2e', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(up.url)));
  serverId = (await tool('mcpbox_create_server', { name: 'cloud' })).id;
  browser = await launch();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  ({ page } = await instrumentedPage(context));
});

after(async () => {
  try { await client?.close(); } catch {}
  try { await browser?.close(); } catch {}
  source?.kill();
  if (up) {
    const res = await up.stop();
    const log = up.log();
    up.cleanup();
    assert.deepEqual(res, { code: 0, signal: null }, `mcpbox up did not exit 0:\n${log.slice(-4000)}`);
  }
});

test('an OAuth source is authorized from its server page', async () => {
  await page.goto(`${base}/#/login`);
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor({ timeout: 10000 });
  // the source's loopback alias counts as public in test builds; the approval
  // actor never lists a loopback host, so the policy opens public hosts instead
  const set = mcpbox(['policy', 'set', 'network_access_policy', 'allow_all_public',
                      '--data-dir', up.dataDir]);
  assert.equal(set.status, 0, set.stderr);
  await page.goto(`${base}/#/servers/${serverId}`);
  await page.getByRole('heading', { level: 2, name: 'External sources' }).waitFor({ timeout: 10000 });
  sourceId = (await tool('mcpbox_add_external_source', {
    server_id: serverId, name: 'cloud', url: `http://${ADDRESS}:${port}/mcp`, auth_type: 'oauth',
  })).source_id;
  const sources = page.getByRole('list', { name: 'External sources' });
  const authorize = sources.getByRole('button', { name: 'Authorize cloud' });
  await authorize.waitFor({ timeout: 10000 });
  await sources.getByText('none', { exact: true }).waitFor();

  await authorize.click();
  const shown = page.getByLabel(/Open this address in a browser/);
  await shown.waitFor({ timeout: 15000 });
  const url = await shown.inputValue();
  assert.ok(url.startsWith(`http://${ADDRESS}:${asPort}/authorize?`), url);
  const query = new URL(url).searchParams;
  assert.equal(query.get('redirect_uri'), `${base}/sources/oauth/callback`);
  assert.equal(query.get('code_challenge_method'), 'S256');
  assert.equal(await page.locator(`a[href^="http://${ADDRESS}"]`).count(), 0,
    'the address is text to copy, not a link out of the dashboard');

  // the admin opens it: the AS approves at once and sends the browser to the callback
  const landed = await fetch(url);
  assert.equal(landed.status, 200);
  assert.ok(landed.url.startsWith(`${base}/sources/oauth/callback?`), landed.url);
  assert.match(await landed.text(), /Source authorized/);
  await page.reload();
  await page.getByRole('list', { name: 'External sources' }).getByText('authorized', { exact: true })
    .waitFor({ timeout: 10000 });

  // the source's tools, under the policy alone (no host approved for the server)
  const found = await tool('mcpbox_discover_external_tools', { source_id: sourceId });
  assert.ok(found.tools.some((t) => t.name === 'add'), JSON.stringify(found));
  const imported = await tool('mcpbox_import_external_tools', { source_id: sourceId, tool_names: ['add'] });
  const toolId = imported.imported_tools[0].id;
  await tool('mcpbox_request_publish', { tool_id: toolId });
  const approved = mcpbox(['approvals', 'approve', 'tool', toolId, '--data-dir', up.dataDir]);
  assert.equal(approved.status, 0, approved.stderr);
  await tool('mcpbox_start_server', { server_id: serverId });
  await waitFor(async () => (await client.listTools()).tools.some((t) => t.name === 'cloud__add'),
    { what: 'cloud__add listed' });
  const sum = await client.callTool({ name: 'cloud__add', arguments: { a: 2, b: 40 } });
  assert.equal(sum.isError, false, JSON.stringify(sum));
  assert.equal(sum.content[0].text, '42');

  // at 360 px nothing scrolls sideways, the button still reachable
  await page.setViewportSize({ width: 360, height: 800 });
  await page.getByRole('button', { name: 'Authorize cloud' }).waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth
    - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `horizontal overflow of ${overflow} px`);
});
