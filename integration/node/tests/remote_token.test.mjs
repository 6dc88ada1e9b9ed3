// The official MCP SDK client over the remote listener (the port a tunnel
// forwards to) of a real `mcpbox up`, with a service token made by
// `mcpbox tokens create` as its bearer credential: it connects, lists (the
// local-only management tools hidden while remote_tool_editing is disabled)
// and calls; without the token, or once it is revoked, the server answers 401
// and the SDK gives up.
//   MCPBOX_BUILD_DIR=/path/build ./node_modules/.bin/node --test tests/remote_token.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startUp, mcpbox, freePort } from '../lib/mcpbox.mjs';

let up;
let remoteUrl;

before(async () => {
  const remote = await freePort();
  up = await startUp({ conf: `remote_listen = 127.0.0.1:${remote}\n` });
  remoteUrl = new URL(`http://127.0.0.1:${remote}/mcp`);
});

after(async () => {
  if (up) {
    const res = await up.stop();
    const log = up.log();
    up.cleanup();
    assert.deepEqual(res, { code: 0, signal: null }, `mcpbox up did not exit 0:\n${log.slice(-4000)}`);
  }
});

function makeToken(name) {
  const r = mcpbox(['tokens', 'create', name, '--data-dir', up.dataDir]);
  assert.equal(r.status, 0, r.stderr);
  const token = r.stdout.split(/\s+/).find((w) => w.startsWith('mcpbox_st_'));
  assert.ok(token, r.stdout);
  return token;
}

function clientWith(token) {
  const client = new Client({ name: 'remote-sdk', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(remoteUrl, token
    ? { requestInit: { headers: { Authorization: `Bearer ${token}` } } } : {});
  return { client, transport };
}

test('the SDK client with a bearer token works over the remote listener', async () => {
  const token = makeToken('sdk-client');
  const { client, transport } = clientWith(token);
  await client.connect(transport);
  const names = [];
  let cursor;
  do {
    const page = await client.listTools(cursor ? { cursor } : {});
    names.push(...page.tools.map((t) => t.name));
    cursor = page.nextCursor;
  } while (cursor);
  assert.ok(names.includes('mcpbox_list_servers'), names.join(','));
  assert.ok(!names.includes('mcpbox_create_tool'), 'a local-only tool is listed remotely');
  const r = await client.callTool({ name: 'mcpbox_list_servers', arguments: {} });
  assert.equal(r.isError, false, JSON.stringify(r));
  assert.equal(typeof r.structuredContent.total, 'number');
  await assert.rejects(client.callTool({ name: 'mcpbox_create_server', arguments: { name: 'x' } }),
    /remote_tool_editing/);

  // revoked: the next request is refused
  assert.equal(mcpbox(['tokens', 'revoke', 'sdk-client', '--data-dir', up.dataDir]).status, 0);
  await assert.rejects(client.listTools(), /401|nauthorized/);
  await client.close().catch(() => {});
});

test('without a token the SDK client cannot connect', async () => {
  const { client, transport } = clientWith(null);
  await assert.rejects(client.connect(transport), /401|nauthorized/);
  const wrong = clientWith('mcpbox_st_' + 'B'.repeat(43));
  await assert.rejects(wrong.client.connect(wrong.transport), /401|nauthorized/);
});
