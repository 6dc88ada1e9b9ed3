// Progress and log lines from inside a tool, with both official clients against a
// real `mcpbox up`: a tool that reports progress ten times and logs three lines
// (info, warning, error). The SDK 1.x client (2025-11-25) sets its level with
// logging/setLevel on its session; the 2.x client (2026-07-28) sends it in the
// request's _meta["io.modelcontextprotocol/logLevel"]. Each client's progress
// callback must fire ten times in order, and only the lines at or above the level it
// chose arrive, on the call's own response stream; without a level, none.
//   MCPBOX_BUILD_DIR=/path/build ./node_modules/.bin/node --test --test-concurrency=1 tests/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client as Client2, StreamableHTTPClientTransport as Transport2 } from '@modelcontextprotocol/client';
import { Client as Client1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as Transport1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { startUp, mcpbox } from '../lib/mcpbox.mjs';

const CODE = `
async def main(steps: int = 10) -> dict:
    """Counts to steps, saying so."""
    log.info("starting")
    for i in range(steps):
        await progress(i + 1, steps, f"step {i + 1} of {steps}")
    log.warning("almost done")
    log.error("pretend failure, but carry on")
    return {"steps": steps}
`;
const TOOL = 'progress26__count';
const LEVEL_KEY = 'io.modelcontextprotocol/logLevel';

let up;
let modern;             // @modelcontextprotocol/client 2.x, 2026-07-28
let legacy;             // @modelcontextprotocol/sdk 1.x, 2025-11-25
const modernLogs = [];
const legacyLogs = [];

before(async () => {
  up = await startUp();
  modern = new Client2({ name: 'mcpbox-node-progress-2026', version: '1.0.0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  modern.setNotificationHandler('notifications/message', (n) => { modernLogs.push(n.params); });
  await modern.connect(new Transport2(new URL(up.url)));
  legacy = new Client1({ name: 'mcpbox-node-progress-2025', version: '1.0.0' });
  legacy.setNotificationHandler(LoggingMessageNotificationSchema, (n) => { legacyLogs.push(n.params); });
  await legacy.connect(new Transport1(new URL(up.url)));

  const manage = async (name, args) => {
    const r = await modern.callTool({ name, arguments: args });
    assert.equal(r.isError ?? false, false, `${name} failed: ${JSON.stringify(r)}`);
    return r.structuredContent;
  };
  const server = await manage('mcpbox_create_server', { name: 'progress26', description: 'progress e2e' });
  const tool = await manage('mcpbox_create_tool', { server_id: server.id, name: 'count', python_code: CODE });
  await manage('mcpbox_request_publish', { tool_id: tool.id, notes: 'progress' });
  const approved = mcpbox(['approvals', 'approve', 'tool', tool.id, '--data-dir', up.dataDir]);
  assert.equal(approved.status, 0, `approve failed: ${approved.stdout}${approved.stderr}`);
  await manage('mcpbox_start_server', { server_id: server.id });
});

after(async () => {
  try { await modern?.close(); } catch {}
  try { await legacy?.close(); } catch {}
  if (up) {
    const res = await up.stop();
    const log = up.log();
    up.cleanup();
    assert.deepEqual(res, { code: 0, signal: null }, `mcpbox up did not exit 0 on SIGTERM:\n${log.slice(-4000)}`);
  }
});

function checkProgress(seen) {
  assert.equal(seen.length, 10, JSON.stringify(seen));
  seen.forEach((p, i) => {
    assert.equal(p.progress, i + 1);
    assert.equal(p.total, 10);
    assert.equal(p.message, `step ${i + 1} of 10`);
  });
}

test('server capabilities declare logging on both eras', () => {
  assert.deepEqual(legacy.getServerCapabilities()?.logging, {});
  assert.deepEqual(modern.getServerCapabilities()?.logging, {});
});

test('2025-11-25 (SDK 1.x): ten progress callbacks in order, log lines at warning and above', async () => {
  await legacy.setLoggingLevel('warning');
  const seen = [];
  legacyLogs.length = 0;
  const r = await legacy.callTool({ name: TOOL, arguments: {} }, undefined,
    { onprogress: (p) => seen.push(p) });
  assert.equal(r.isError ?? false, false, JSON.stringify(r));
  assert.deepEqual(r.structuredContent, { steps: 10 });
  checkProgress(seen);
  assert.deepEqual(legacyLogs.map((l) => [l.level, l.data, l.logger]),
    [['warning', 'almost done', TOOL], ['error', 'pretend failure, but carry on', TOOL]]);
  // what became of them is in the result's _meta
  const counts = r._meta?.['mcpbox/notices'];
  assert.equal(counts.sent, 12, JSON.stringify(counts));       // 10 progress + 2 lines
  assert.equal(counts.filtered, 1);                              // the info line
  assert.equal(counts.delivered, 12);
  assert.equal(counts.rate_limited, 0);

  // debug: all three lines
  await legacy.setLoggingLevel('debug');
  legacyLogs.length = 0;
  await legacy.callTool({ name: TOOL, arguments: { steps: 2 } });
  assert.deepEqual(legacyLogs.map((l) => l.level), ['info', 'warning', 'error']);
});

test('2026-07-28 (client 2.x): ten progress callbacks in order, log lines at the request\'s level', async () => {
  const seen = [];
  modernLogs.length = 0;
  const r = await modern.callTool({ name: TOOL, arguments: {}, _meta: { [LEVEL_KEY]: 'error' } },
    { onprogress: (p) => seen.push(p) });
  assert.equal(r.isError ?? false, false, JSON.stringify(r));
  assert.deepEqual(r.structuredContent, { steps: 10 });
  checkProgress(seen);
  assert.deepEqual(modernLogs.map((l) => [l.level, l.data]), [['error', 'pretend failure, but carry on']]);

  modernLogs.length = 0;
  await modern.callTool({ name: TOOL, arguments: { steps: 3 }, _meta: { [LEVEL_KEY]: 'info' } });
  assert.deepEqual(modernLogs.map((l) => l.level), ['info', 'warning', 'error']);
});

test('without a level no log line is sent; without a progress token no progress', async () => {
  modernLogs.length = 0;
  const r = await modern.callTool({ name: TOOL, arguments: { steps: 4 } });
  assert.deepEqual(r.structuredContent, { steps: 4 });
  assert.deepEqual(modernLogs, []);
  const counts = r._meta?.['mcpbox/notices'];
  assert.deepEqual([counts.sent, counts.filtered], [0, 7], JSON.stringify(counts));
});
