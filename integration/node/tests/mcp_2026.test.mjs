// Both protocol generations on one /mcp, each with its official client, against a
// real `mcpbox up`: @modelcontextprotocol/client 2.x pinned to 2026-07-28 (stateless:
// server/discover, per-request _meta, subscriptions/listen) and @modelcontextprotocol/sdk
// 1.x on 2025-11-25 (initialize, Mcp-Session-Id, GET stream) side by side. The 2026
// client does the whole flow — create server and tool, test, request publishing,
// approve with the admin CLI, start, the tools/list_changed notification on its listen
// stream, list and call — and the 1.x client gets the same change on its GET stream.
// Raw requests check the wire: no session is made for a 2026 request, resultType and
// serverInfo on results, ttlMs/cacheScope, the 2026 error codes and HTTP statuses.
//   MCPBOX_BUILD_DIR=/path/build ./node_modules/.bin/node --test --test-concurrency=1 tests/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client as Client2, StreamableHTTPClientTransport as Transport2 } from '@modelcontextprotocol/client';
import { Client as Client1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as Transport1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { startUp, mcpbox, waitFor } from '../lib/mcpbox.mjs';

const CODE = `
async def main(name: str, times: int = 1) -> dict:
    """Greets someone, several times."""
    return {"greeting": "hello " + name, "times": times}
`;
const META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
};

let up;
let modern;             // @modelcontextprotocol/client 2.x, 2026-07-28
let legacy;             // @modelcontextprotocol/sdk 1.x, 2025-11-25
let subscription;
let modernChanged = 0;
let legacyChanged = 0;

before(async () => {
  up = await startUp();
  modern = new Client2({ name: 'mcpbox-node-e2e-2026', version: '1.0.0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  modern.setNotificationHandler('notifications/tools/list_changed', () => { modernChanged += 1; });
  await modern.connect(new Transport2(new URL(up.url)));
  legacy = new Client1({ name: 'mcpbox-node-e2e-2025', version: '1.0.0' });
  legacy.setNotificationHandler(ToolListChangedNotificationSchema, () => { legacyChanged += 1; });
  await legacy.connect(new Transport1(new URL(up.url)));
});

after(async () => {
  try { await subscription?.close(); } catch {}
  try { await modern?.close(); } catch {}
  try { await legacy?.close(); } catch {}
  if (up) {
    const res = await up.stop();
    const log = up.log();
    up.cleanup();
    assert.deepEqual(res, { code: 0, signal: null }, `mcpbox up did not exit 0 on SIGTERM:\n${log.slice(-4000)}`);
  }
});

/** A raw 2026 POST: returns {status, headers, body}. */
async function post(method, params, { headers = {}, id = 1 } = {}) {
  const res = await fetch(up.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json', accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2026-07-28', 'mcp-method': method, ...headers,
    },
    body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

async function manage(name, args) {
  const r = await modern.callTool({ name, arguments: args });
  assert.equal(r.isError ?? false, false, `${name} failed: ${JSON.stringify(r)}`);
  return r.structuredContent;
}

test('the 2026 client negotiated 2026-07-28 through server/discover; the 1.x client 2025-11-25', () => {
  assert.equal(modern.getNegotiatedProtocolVersion(), '2026-07-28');
  assert.equal(modern.getServerCapabilities()?.tools?.listChanged, true);
  assert.equal(legacy.getServerCapabilities()?.tools?.listChanged, true);
});

test('a 2026 request is stateless and its result says what it is', async () => {
  const r = await post('server/discover', { _meta: META });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('mcp-session-id'), null);
  assert.deepEqual(r.body.result.supportedVersions, ['2026-07-28', '2025-11-25', '2025-06-18', '2025-03-26']);
  assert.equal(r.body.result.resultType, 'complete');
  assert.equal(r.body.result._meta['io.modelcontextprotocol/serverInfo'].name, 'mcpbox');
  const list = await post('tools/list', { _meta: META });
  assert.equal(list.status, 200);
  assert.equal(list.headers.get('mcp-session-id'), null);
  assert.equal(list.body.result.resultType, 'complete');
  assert.equal(list.body.result.cacheScope, 'private');
  assert.ok(list.body.result.ttlMs >= 0 && list.body.result.ttlMs <= 1000, JSON.stringify(list.body.result.ttlMs));
  const names = list.body.result.tools.map((t) => t.name);
  assert.ok(names.includes('mcpbox_create_server'));
  // management tools carry a title and all four hints, on both eras
  const del = list.body.result.tools.find((t) => t.name === 'mcpbox_delete_server');
  assert.equal(del.title, 'Delete a server');
  assert.deepEqual(del.annotations, { title: 'Delete a server', readOnlyHint: false,
    destructiveHint: true, idempotentHint: true, openWorldHint: false });
  const legacyList = (await legacy.listTools()).tools;
  assert.deepEqual(legacyList.find((t) => t.name === 'mcpbox_list_servers').annotations,
    { title: 'List servers', readOnlyHint: true, destructiveHint: false, idempotentHint: true,
      openWorldHint: false });
  assert.equal(legacyList.find((t) => t.name === 'mcpbox_test_code').annotations.openWorldHint, true);
  // the same order every time
  assert.deepEqual((await post('tools/list', { _meta: META })).body.result.tools.map((t) => t.name), names);
});

test('2026 refusals: codes, HTTP statuses, the request id', async () => {
  let r = await post('server/discover', {}, { id: 7 });
  assert.deepEqual([r.status, r.body.error.code, r.body.id], [400, -32602, 7]);
  r = await post('server/discover', { _meta: { ...META, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } },
    { headers: { 'mcp-protocol-version': '2099-01-01' }, id: 8 });
  assert.deepEqual([r.status, r.body.error.code, r.body.id], [400, -32022, 8]);
  assert.deepEqual(r.body.error.data, {
    supported: ['2026-07-28', '2025-11-25', '2025-06-18', '2025-03-26'], requested: '2099-01-01' });
  r = await post('tools/list', { _meta: META }, { headers: { 'mcp-protocol-version': '2025-11-25' } });
  assert.deepEqual([r.status, r.body.error.code], [400, -32020]);
  r = await post('tools/list', { _meta: META }, { headers: { 'mcp-method': 'tools/call' } });
  assert.deepEqual([r.status, r.body.error.code], [400, -32020]);
  r = await post('tools/call', { name: 'mcpbox_list_servers', arguments: {}, _meta: META },
    { headers: { 'mcp-name': 'mcpbox_get_server' } });
  assert.deepEqual([r.status, r.body.error.code], [400, -32020]);
  for (const gone of ['initialize', 'ping', 'logging/setLevel', 'prompts/list']) {
    r = await post(gone, { _meta: META }, { id: 'x' });
    assert.deepEqual([r.status, r.body.error.code, r.body.id], [404, -32601, 'x'], gone);
  }
});

test('create, test, publish, approve with the CLI, start, list_changed on both eras, list, call', async () => {
  subscription = await modern.listen({ toolsListChanged: true });
  assert.equal(subscription.honoredFilter.toolsListChanged, true);

  const server = await manage('mcpbox_create_server', { name: 'greeter26', description: 'node e2e 2026' });
  const tool = await manage('mcpbox_create_tool', { server_id: server.id, name: 'greet', python_code: CODE });
  const tested = await manage('mcpbox_test_code', { tool_id: tool.id, arguments: { name: 'ada', times: 2 } });
  assert.deepEqual(tested.result, { greeting: 'hello ada', times: 2 });
  const published = await manage('mcpbox_request_publish', { tool_id: tool.id, notes: 'please' });
  assert.equal(published.status, 'pending_review');
  const approved = mcpbox(['approvals', 'approve', 'tool', tool.id, '--data-dir', up.dataDir]);
  assert.equal(approved.status, 0, `approve failed: ${approved.stdout}${approved.stderr}`);

  const [m0, l0] = [modernChanged, legacyChanged];
  const started = await manage('mcpbox_start_server', { server_id: server.id });
  assert.equal(started.status, 'running');
  await waitFor(() => modernChanged > m0, { timeout: 10000, what: 'list_changed on the 2026 listen stream' });
  await waitFor(() => legacyChanged > l0, { timeout: 10000, what: 'list_changed on the 2025 GET stream' });

  const full = 'greeter26__greet';
  const listedModern = (await modern.listTools()).tools.find((t) => t.name === full);
  assert.ok(listedModern, `${full} not listed for the 2026 client`);
  assert.deepEqual(listedModern.inputSchema.required, ['name']);
  const listedLegacy = [];
  let cursor;
  do {
    const page = await legacy.listTools(cursor ? { cursor } : {});
    listedLegacy.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor);
  assert.ok(listedLegacy.some((t) => t.name === full), `${full} not listed for the 1.x client`);

  const viaModern = await modern.callTool({ name: full, arguments: { name: 'bob', times: 3 } });
  assert.equal(viaModern.isError ?? false, false, JSON.stringify(viaModern));
  assert.deepEqual(viaModern.structuredContent, { greeting: 'hello bob', times: 3 });
  const viaLegacy = await legacy.callTool({ name: full, arguments: { name: 'cy' } });
  assert.deepEqual(viaLegacy.structuredContent, { greeting: 'hello cy', times: 1 });

  // stopping the server: both hear it again, and the tool is gone for both
  const [m1, l1] = [modernChanged, legacyChanged];
  await manage('mcpbox_stop_server', { server_id: server.id });
  await waitFor(() => modernChanged > m1 && legacyChanged > l1, { timeout: 10000, what: 'list_changed after stop' });
  assert.equal((await modern.listTools()).tools.some((t) => t.name === full), false);
});
