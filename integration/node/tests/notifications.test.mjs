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
import { readdirSync, readFileSync } from 'node:fs';
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
const errors = [];                        // what the SDK reported through onerror

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
  client.onerror = (e) => { errors.push(String(e?.message ?? e)); };  // the cut shows here
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

/** CPU ticks of the sandbox children (uid 65534) in `mcpbox up`'s process group. */
function sandboxTicks() {
  const ticks = {};
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = readFileSync(`/proc/${name}/status`, 'utf8');
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (uid === 65534 && Number(fields[2]) === up.proc.pid) ticks[name] = Number(fields[11]) + Number(fields[12]);
    } catch {}
  }
  return ticks;
}

async function sandboxBusy(windowMs = 300) {
  const before = sandboxTicks();
  await sleep(windowMs);
  const after = sandboxTicks();
  return Object.keys(after).some((pid) => pid in before && after[pid] > before[pid]);
}

test('a cancelled tools/call gets no response and its sandbox process stops', async () => {
  const server = await manage('mcpbox_create_server', { name: 'spinner' });
  const spin = await manage('mcpbox_create_tool', { server_id: server.id, name: 'spin',
    python_code: 'async def main() -> int:\n    while True:\n        pass\n' });
  await manage('mcpbox_request_publish', { tool_id: spin.id });
  const approved = mcpbox(['approvals', 'approve', 'tool', spin.id, '--data-dir', up.dataDir]);
  assert.equal(approved.status, 0, approved.stdout + approved.stderr);
  await manage('mcpbox_start_server', { server_id: server.id });
  await waitFor(async () => (await description('spinner__spin')) !== undefined,
    { timeout: 10000, what: 'spinner__spin listed' });

  errors.length = 0;
  const controller = new AbortController();
  const call = client.callTool({ name: 'spinner__spin', arguments: {} }, undefined,
    { signal: controller.signal, timeout: 60000 });
  await waitFor(() => sandboxBusy(), { timeout: 10000, what: 'the tool spinning' });
  controller.abort('the user gave up');     // the SDK sends notifications/cancelled
  await assert.rejects(call);
  const cancelledAt = Date.now();
  await waitFor(async () => !(await sandboxBusy(200)), { timeout: 1000, what: 'the child stopped' });
  assert.ok(Date.now() - cancelledAt < 1500);
  await sleep(1500);
  assert.equal(await sandboxBusy(), false);
  // no response for the cancelled id ever reached the client
  assert.deepEqual(errors.filter((e) => /unknown message ID/i.test(e)), [], errors.join('\n'));
  // and the sandbox serves the next call at once
  const started = Date.now();
  const hello = await client.callTool({ name: 'notes__hello', arguments: { name: 'x' } });
  assert.equal(hello.isError ?? false, false, JSON.stringify(hello));
  assert.ok(Date.now() - started < 3000);
});
