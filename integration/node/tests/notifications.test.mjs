// Notifications with the official MCP TypeScript SDK client against a real `mcpbox up`:
// 100 changes of the tool list, spread over more than 35 s, each one
// notifications/tools/list_changed on the SDK's GET SSE stream; in the middle the test cuts
// the stream (as a network drop would), the SDK reconnects with Last-Event-ID after its
// back-off, and the gateway replays what was sent meanwhile. The client must count exactly
// 100, and the stream must not have been dropped otherwise (it once closed every 10 s).
//   MCPBOX_BUILD_DIR=/path/build ./node_modules/.bin/node --test --test-concurrency=1 tests/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { startUp, mcpbox, waitFor, sleep } from '../lib/mcpbox.mjs';

const CHANGES = 100;
const INTERVAL_MS = 360;                  // 100 x 360 ms: 36 s
const CODE = `
async def main(name: str) -> str:
    """Says hello."""
    return "hello " + name
`;

let up;
let client;
let listChanged = 0;
const gets = [];                          // the GET /mcp requests: their Last-Event-ID
let cut = null;                           // drops the current GET stream

/** fetch for the SDK: GET streams are wrapped so that the test can drop one. */
async function cuttableFetch(url, init = {}) {
  const res = await fetch(url, init);
  if ((init.method ?? 'GET') !== 'GET' || !res.ok || !res.body) return res;
  const headers = new Headers(init.headers);
  gets.push(headers.get('last-event-id'));
  const reader = res.body.getReader();
  let controller;
  const body = new ReadableStream({
    start(c) { controller = c; },
    async pull(c) {
      try {
        const { value, done } = await reader.read();
        if (done) c.close(); else c.enqueue(value);
      } catch (e) {
        try { c.error(e); } catch {}
      }
    },
    cancel(reason) { return reader.cancel(reason); },
  });
  cut = () => {
    try { controller.error(new Error('stream cut by the test')); } catch {}
    reader.cancel().catch(() => {});      // closes the connection: the server sees it go
  };
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
}

before(async () => {
  up = await startUp();
  client = new Client({ name: 'mcpbox-node-notifications', version: '1.0.0' });
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => { listChanged += 1; });
  client.onerror = () => {};              // the cut is reported here; expected
  await client.connect(new StreamableHTTPClientTransport(new URL(up.url), { fetch: cuttableFetch }));
});

after(async () => {
  try { await client?.close(); } catch {}
  if (up) {
    const res = await up.stop();
    const log = up.log();
    up.cleanup();
    assert.deepEqual(res, { code: 0, signal: null }, `mcpbox up did not exit 0 on SIGTERM:\n${log.slice(-4000)}`);
  }
});

async function manage(name, args) {
  const r = await client.callTool({ name, arguments: args });
  assert.equal(r.isError, false, `${name} failed: ${JSON.stringify(r)}`);
  return r.structuredContent;
}

async function description(full) {
  const tools = [];
  let cursor;
  do {
    const page = await client.listTools(cursor ? { cursor } : {});
    tools.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor);
  return tools.find((t) => t.name === full)?.description;
}

test('every one of 100 list_changed notifications arrives, across a reconnect', async () => {
  const server = await manage('mcpbox_create_server', { name: 'notes' });
  const tool = await manage('mcpbox_create_tool', { server_id: server.id, name: 'hello', python_code: CODE });
  await manage('mcpbox_request_publish', { tool_id: tool.id });
  const approved = mcpbox(['approvals', 'approve', 'tool', tool.id, '--data-dir', up.dataDir]);
  assert.equal(approved.status, 0, approved.stdout + approved.stderr);
  await manage('mcpbox_start_server', { server_id: server.id });
  await waitFor(async () => (await description('notes__hello')) !== undefined,
    { timeout: 10000, what: 'the tool listed' });
  await sleep(1500);                      // the set-up's own notifications are in
  const before = listChanged;
  assert.equal(gets.length, 1, `GET streams so far: ${JSON.stringify(gets)}`);

  const started = Date.now();
  for (let i = 1; i <= CHANGES; i++) {
    // a new description is a new tool list for every client
    await manage('mcpbox_update_tool', { tool_id: tool.id, description: `change ${i}` });
    if (i === CHANGES / 2) cut();         // the SDK reconnects after its 1 s back-off
    await sleep(INTERVAL_MS);
  }
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 35000, `the changes took ${elapsed} ms`);
  assert.equal(await description('notes__hello'), `change ${CHANGES}`);

  await waitFor(() => listChanged - before >= CHANGES,
    { timeout: 10000, what: `${CHANGES} notifications (have ${listChanged - before})` });
  await sleep(1000);                      // and no more than that
  assert.equal(listChanged - before, CHANGES);
  // one reconnect (the cut), and it resumed from the last event it had
  assert.equal(gets.length, 2, `GET streams: ${JSON.stringify(gets)}`);
  assert.equal(gets[0], null);
  assert.match(gets[1] ?? '', /^\d+$/, 'the reconnect carried Last-Event-ID');
});
