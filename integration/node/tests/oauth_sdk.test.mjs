// The official MCP SDK client's OAuth support against MCPbox's own
// authorization server, over the remote listener of a real `mcpbox up`:
// the SDK finds the server from the 401's resource_metadata (RFC 9728),
// registers itself (RFC 7591), sends the browser (Debian's chromium, driven
// by playwright-core) to the consent page, where the admin signs in and
// approves the app by its name; the SDK exchanges the code (PKCE S256) and
// calls tools over the remote listener; once the 2 s access token expires
// it refreshes (a new refresh token each time); `mcpbox oauth clients list`
// lists it; after the admin's Revoke on the dashboard's Settings page every
// request is 401 and the refresh is refused, so the SDK gives up.
//   MCPBOX_BUILD_DIR=/path/build ./node_modules/.bin/node --test tests/oauth_sdk.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { startUp, mcpbox, freePort, waitFor, sleep } from '../lib/mcpbox.mjs';
import { launch } from '../lib/browser.mjs';

const ADMIN = { username: 'oauthadmin', password: 'oauth-flow-password-1' };
const APP_NAME = 'SDK <b>test</b> app';

let up;
let remoteUrl;
let browser;
let callback;
let callbackUrl;

before(async () => {
  const remote = await freePort();
  up = await startUp({ conf: `remote_listen = 127.0.0.1:${remote}\noauth_access_ttl_s = 2\n` });
  remoteUrl = new URL(`http://127.0.0.1:${remote}/mcp`);
  const res = await fetch(`http://127.0.0.1:${up.port}/api/auth/setup`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(ADMIN) });
  assert.equal(res.status, 201, await res.text());
  callback = createServer((req, res) => { res.writeHead(200, { 'Content-Type': 'text/plain' }); res.end('done'); });
  await new Promise((resolve) => callback.listen(0, '127.0.0.1', resolve));
  callbackUrl = `http://127.0.0.1:${callback.address().port}/callback`;
  browser = await launch();
});

after(async () => {
  try { await browser?.close(); } catch {}
  callback?.close();
  if (up) {
    const res = await up.stop();
    const log = up.log();
    up.cleanup();
    assert.deepEqual(res, { code: 0, signal: null }, `mcpbox up did not exit 0:\n${log.slice(-4000)}`);
  }
});

// An in-memory OAuthClientProvider, as an app would keep it.
class MemoryProvider {
  constructor() { this.saved = {}; this.authorizations = []; this.tokenHistory = []; }
  get redirectUrl() { return callbackUrl; }
  get clientMetadata() {
    return { client_name: APP_NAME, redirect_uris: [callbackUrl],
             grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
             token_endpoint_auth_method: 'none' };
  }
  state() { return 'state-' + Math.random().toString(36).slice(2); }
  clientInformation() { return this.saved.client; }
  saveClientInformation(info) { this.saved.client = info; }
  tokens() { return this.saved.tokens; }
  saveTokens(tokens) { this.saved.tokens = tokens; this.tokenHistory.push(tokens); }
  redirectToAuthorization(url) { this.authorizations.push(url); }
  saveCodeVerifier(v) { this.saved.verifier = v; }
  codeVerifier() { return this.saved.verifier; }
  invalidateCredentials(scope) {
    if (scope === 'all' || scope === 'tokens') delete this.saved.tokens;
    if (scope === 'all' || scope === 'client') delete this.saved.client;
  }
}

function transportFor(provider) {
  return new StreamableHTTPClientTransport(remoteUrl, { authProvider: provider });
}

// The admin's part: open the consent page, check it, sign in, approve.
async function consent(url, { width = 360 } = {}) {
  const context = await browser.newContext({ viewport: { width, height: 800 } });
  const page = await context.newPage();
  const errors = [];
  // CSP violations and script errors are console errors; a failed load is
  // recorded with its URL (the browser's own /favicon.ico probe is a 404
  // on the remote listener, which serves nothing but /mcp and OAuth)
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
  });
  page.on('response', (res) => {
    if (res.status() >= 400 && new URL(res.url()).pathname !== '/favicon.ico') errors.push(`${res.status()} ${res.url()}`);
  });
  try {
    const landed = page.waitForRequest((r) => r.url().startsWith(callbackUrl), { timeout: 15000 });
    await page.goto(url.toString());
    // the name is text, never markup; the page fits a phone
    assert.equal(await page.locator('#client-name').textContent(), APP_NAME);
    assert.equal(await page.locator('#client-name b').count(), 0);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the consent page overflows ${width} px by ${overflow} px`);
    await page.getByLabel('Username').fill(ADMIN.username);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Approve' }).click();
    const request = await landed;
    const query = new URL(request.url()).searchParams;
    assert.equal(query.get('iss'), `http://${remoteUrl.host}`);
    assert.deepEqual(errors, [], 'the consent page logged errors (CSP?)');
    return query.get('code');
  } finally {
    await context.close();
  }
}

async function toolNames(client) {
  const names = [];
  let cursor;
  do {
    const page = await client.listTools(cursor ? { cursor } : {});
    names.push(...page.tools.map((t) => t.name));
    cursor = page.nextCursor;
  } while (cursor);
  return names;
}

test('SDK OAuth: consent in the browser, calls, refresh, revocation', async () => {
  const provider = new MemoryProvider();
  // 1. no token: 401 → discovery → registration → the browser is sent to /authorize
  const first = new Client({ name: 'oauth-sdk', version: '1.0.0' });
  const transport = transportFor(provider);
  await assert.rejects(first.connect(transport), UnauthorizedError);
  assert.equal(provider.authorizations.length, 1);
  const authUrl = provider.authorizations[0];
  assert.equal(authUrl.origin, `http://${remoteUrl.host}`);
  assert.equal(authUrl.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(authUrl.searchParams.get('resource'), remoteUrl.toString());
  const clientId = provider.saved.client.client_id;
  assert.match(clientId, /^mcpbox-/);
  // 2. the admin approves in the browser; the SDK exchanges the code
  const code = await consent(authUrl);
  await transport.finishAuth(code);
  assert.ok(provider.tokens()?.access_token && provider.tokens()?.refresh_token);
  // 3. MCP over the remote listener with the access token
  const client = new Client({ name: 'oauth-sdk', version: '1.0.0' });
  await client.connect(transportFor(provider));
  const names = await toolNames(client);
  assert.ok(names.includes('mcpbox_list_servers'), names.join(','));
  assert.ok(!names.includes('mcpbox_create_tool'), 'a local-only tool is listed remotely');
  const r = await client.callTool({ name: 'mcpbox_list_servers', arguments: {} });
  assert.ok(!r.isError, JSON.stringify(r));
  // 4. the 2 s access token expires: the SDK refreshes (rotation) and goes on
  const before = provider.tokens();
  const verify = () => fetch(remoteUrl, { method: 'POST', headers: {
    Authorization: `Bearer ${before.access_token}`, 'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }) }).then((res) => res.status);
  await waitFor(async () => (await verify()) === 401, { timeout: 10000, interval: 250,
                                                         what: 'access token expiry' });
  const client2 = new Client({ name: 'oauth-sdk', version: '1.0.0' });
  await client2.connect(transportFor(provider));
  const r2 = await client2.callTool({ name: 'mcpbox_list_servers', arguments: {} });
  assert.ok(!r2.isError, JSON.stringify(r2));
  const after = provider.tokens();
  assert.notEqual(after.access_token, before.access_token);
  assert.notEqual(after.refresh_token, before.refresh_token, 'the refresh token did not rotate');
  // 5. listed for the admin, then revoked: 401, the refresh refused, the SDK gives up
  const list = mcpbox(['oauth', 'clients', 'list', '--data-dir', up.dataDir]);
  assert.equal(list.status, 0, list.stderr);
  assert.ok(list.stdout.includes(clientId), list.stdout);
  // the admin revokes it on the dashboard's Settings page
  const context = await browser.newContext({ viewport: { width: 360, height: 800 } });
  const page = await context.newPage();
  await page.goto(`http://127.0.0.1:${up.port}/#/login`);
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor({ timeout: 10000 });
  await page.goto(`http://127.0.0.1:${up.port}/#/settings`);
  await page.getByRole('heading', { level: 2, name: 'Authorized apps (OAuth)' }).waitFor({ timeout: 10000 });
  const apps = page.getByRole('table', { name: 'Apps authorized for /mcp' });
  await apps.getByRole('cell', { name: APP_NAME, exact: true }).waitFor();
  await apps.getByRole('button', { name: `Revoke app ${APP_NAME}` }).click();
  await page.getByText('No app is authorized.').or(apps.getByRole('cell', { name: '0', exact: true }))
    .first().waitFor({ timeout: 5000 });
  await context.close();
  const res = await fetch(remoteUrl, { method: 'POST', headers: {
    Authorization: `Bearer ${provider.tokens().access_token}`, 'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }) });
  assert.equal(res.status, 401);
  assert.match(res.headers.get('www-authenticate') || '', /resource_metadata="/);
  // the SDK's refresh is refused (invalid_grant) and it drops the tokens; the
  // next try is sent to the consent page again
  const client3 = new Client({ name: 'oauth-sdk', version: '1.0.0' });
  await assert.rejects(client3.connect(transportFor(provider)), (e) => e.name === 'InvalidGrantError'
                       || e instanceof UnauthorizedError);
  assert.equal(provider.tokens(), undefined);
  const asked = provider.authorizations.length;
  const client4 = new Client({ name: 'oauth-sdk', version: '1.0.0' });
  await assert.rejects(client4.connect(transportFor(provider)), UnauthorizedError);
  assert.equal(provider.authorizations.length, asked + 1,
               'without tokens the SDK is not sent to the consent page again');
  await sleep(0);
  for (const c of [client, client2]) { try { await c.close(); } catch {} }
});
