// The OAuth-protected source of integration/test_source_oauth.py
// (lib/oauth_mcp_server.mjs) checked with the official SDK's own OAuth
// client, so that a failure there is MCPbox's and not the fixture's: the SDK
// finds the AS through the 401 (RFC 9728, an AS on another origin), registers
// (RFC 7591), authorizes (the AS approves at once and redirects with code and
// state), exchanges the code (PKCE S256, resource), calls (Streamable HTTP and
// legacy HTTP+SSE); once the 2 s access
// token expires it refreshes and goes on. And the AS is strict: a refresh
// token is refused once used (rotation), a wrong verifier, a missing or other
// resource, another redirect_uri and a reused code are refused; revoking every
// token makes the SDK's refresh fail. Runs on loopback (no netns needed).
//   ./node_modules/.bin/node --test tests/oauth_source_fixture.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { UnauthorizedError, startAuthorization } from '@modelcontextprotocol/sdk/client/auth.js';
import { freePort, waitFor } from '../lib/mcpbox.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const FIXTURE = path.join(HERE, '..', 'lib', 'oauth_mcp_server.mjs');
const REDIRECT = 'http://127.0.0.1:9/sources/oauth/callback';

let proc;
let mcpUrl;
let asUrl;
let origin;

before(async () => {
  const [port, asPort] = [await freePort(), await freePort()];
  origin = `http://127.0.0.1:${port}`;
  mcpUrl = new URL(`${origin}/mcp`);
  asUrl = `http://127.0.0.1:${asPort}`;
  proc = spawn(process.execPath, [FIXTURE, '--address', '127.0.0.1', '--port', String(port),
    '--as-port', String(asPort), '--access-ttl', '2'], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitFor(async () => {
    try {
      return (await fetch(`${origin}/_test/status`)).ok
        && (await fetch(`${asUrl}/.well-known/oauth-authorization-server`)).ok;
    } catch { return false; }
  }, { timeout: 20000, what: 'the OAuth source' });
});

after(() => proc?.kill('SIGKILL'));

const status = () => fetch(`${origin}/_test/status`).then((r) => r.json());

class MemoryProvider {
  constructor() { this.saved = {}; this.authorizations = []; }
  get redirectUrl() { return REDIRECT; }
  get clientMetadata() {
    return { client_name: 'fixture check', redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
      token_endpoint_auth_method: 'none' };
  }
  state() { return 'st-' + Math.random().toString(36).slice(2); }
  clientInformation() { return this.saved.client; }
  saveClientInformation(info) { this.saved.client = info; }
  tokens() { return this.saved.tokens; }
  saveTokens(tokens) { this.saved.tokens = tokens; }
  redirectToAuthorization(url) { this.authorizations.push(url); }
  saveCodeVerifier(v) { this.saved.verifier = v; }
  codeVerifier() { return this.saved.verifier; }
  invalidateCredentials(scope) {
    if (scope === 'all' || scope === 'tokens') delete this.saved.tokens;
    if (scope === 'all' || scope === 'client') delete this.saved.client;
  }
}

// The user agent's part: the AS approves at once and redirects to redirect_uri.
async function approve(url) {
  const res = await fetch(url, { redirect: 'manual' });
  assert.equal(res.status, 302, await res.text());
  return new URL(res.headers.get('location'));
}

async function token(body) {
  const res = await fetch(`${asUrl}/token`, { method: 'POST', body: new URLSearchParams(body) });
  return { status: res.status, body: await res.json() };
}

async function whoami(provider) {
  const client = new Client({ name: 'fixture-check', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider }));
  try {
    const r = await client.callTool({ name: 'whoami', arguments: {} });
    assert.ok(!r.isError, JSON.stringify(r));
    const sum = await client.callTool({ name: 'add', arguments: { a: 2, b: 40 } });
    assert.equal(sum.content[0].text, '42');
    return JSON.parse(r.content[0].text);
  } finally {
    await client.close();
  }
}

test('the SDK client goes through authorize, call, expiry, refresh', async () => {
  const provider = new MemoryProvider();
  const transport = new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider });
  await assert.rejects(new Client({ name: 'c', version: '1' }).connect(transport), UnauthorizedError);
  const url = provider.authorizations[0];
  assert.equal(url.origin, asUrl, 'the AS is on its own origin');
  assert.equal(url.searchParams.get('resource'), mcpUrl.href);
  const landed = await approve(url);
  assert.equal(landed.origin + landed.pathname, REDIRECT);
  assert.equal(landed.searchParams.get('state'), url.searchParams.get('state'));
  await transport.finishAuth(landed.searchParams.get('code'));
  const first = provider.tokens();
  const me = await whoami(provider);
  assert.equal(me.client_id, provider.saved.client.client_id);
  assert.equal(me.resource, mcpUrl.href);
  // the same token on the legacy HTTP+SSE transport of the same resource
  const legacy = new Client({ name: 'fixture-check-sse', version: '1.0.0' });
  await legacy.connect(new SSEClientTransport(new URL(`${origin}/mcp/sse`), { authProvider: provider }));
  const viaSse = await legacy.callTool({ name: 'whoami', arguments: {} });
  assert.equal(JSON.parse(viaSse.content[0].text).token, me.token);
  await legacy.close();
  let s = await status();
  assert.equal(s.registrations, 1);
  assert.deepEqual(s.grants, { authorization_code: 1, refresh_token: 0 });
  assert.equal(s.last_token_request.resource, mcpUrl.href);
  assert.ok(s.issued.access.includes(first.access_token));
  // expiry: the old token is refused, the SDK refreshes on the 401 and goes on
  await waitFor(async () => (await fetch(mcpUrl, { method: 'POST', headers: {
    Authorization: `Bearer ${first.access_token}` } })).status === 401,
  { timeout: 10000, interval: 200, what: 'access token expiry' });
  const again = await whoami(provider);
  assert.notEqual(again.token, me.token);
  s = await status();
  assert.equal(s.grants.refresh_token, 1);
  assert.ok(s.mcp.unauthorized >= 2, JSON.stringify(s.mcp));
  // rotation: the first refresh token is spent
  const reuse = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token,
    client_id: provider.saved.client.client_id, resource: mcpUrl.href });
  assert.equal(reuse.status, 400);
  assert.equal(reuse.body.error, 'invalid_grant');
  assert.equal((await status()).refresh_reused, 1);
  // every token revoked: the SDK's refresh is refused
  await fetch(`${origin}/_test/revoke?what=all`, { method: 'POST' });
  await assert.rejects(whoami(provider));
  assert.equal((await status()).refused.refresh_token, 2);
});

test('the AS refuses what a strict AS must', async () => {
  const reg = await fetch(`${asUrl}/register`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' }) });
  assert.equal(reg.status, 201);
  const client = await reg.json();
  const metadata = await (await fetch(`${asUrl}/.well-known/oauth-authorization-server`)).json();
  const start = (resource) => startAuthorization(asUrl, { metadata, clientInformation: client,
    redirectUrl: REDIRECT, state: 'xyz', resource });
  // resource missing or another: refused at /authorize (an error redirect)
  for (const resource of [undefined, new URL(`${origin}/other`)]) {
    const { authorizationUrl } = await start(resource);
    const landed = await approve(authorizationUrl);
    assert.equal(landed.searchParams.get('error'), 'invalid_target');
    assert.equal(landed.searchParams.get('code'), null);
  }
  const code = async () => {
    const { authorizationUrl, codeVerifier } = await start(mcpUrl);
    return { code: (await approve(authorizationUrl)).searchParams.get('code'), codeVerifier };
  };
  const base = { grant_type: 'authorization_code', client_id: client.client_id, redirect_uri: REDIRECT,
    resource: mcpUrl.href };
  // a wrong verifier (PKCE S256)
  let c = await code();
  let r = await token({ ...base, code: c.code, code_verifier: 'x'.repeat(43) });
  assert.equal(r.body.error, 'invalid_grant');
  assert.match(r.body.error_description, /code_verifier/);
  // another redirect_uri, another resource
  c = await code();
  r = await token({ ...base, code: c.code, code_verifier: c.codeVerifier, redirect_uri: 'http://127.0.0.1:9/x' });
  assert.equal(r.body.error, 'invalid_grant');
  c = await code();
  r = await token({ ...base, code: c.code, code_verifier: c.codeVerifier, resource: `${origin}/other` });
  assert.equal(r.body.error, 'invalid_target');
  // the right one, once; the code is single use
  c = await code();
  r = await token({ ...base, code: c.code, code_verifier: c.codeVerifier });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.ok(r.body.access_token && r.body.refresh_token && r.body.expires_in === 2);
  r = await token({ ...base, code: c.code, code_verifier: c.codeVerifier });
  assert.equal(r.body.error, 'invalid_grant');
  // a token is bound to /mcp of this server
  const ok = await fetch(mcpUrl, { method: 'POST', headers: { Authorization: 'Bearer nope' } });
  assert.equal(ok.status, 401);
  assert.match(ok.headers.get('www-authenticate'), /resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp"/);
});
