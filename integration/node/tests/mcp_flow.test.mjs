// The whole MCPbox flow with the official MCP TypeScript SDK client against a real
// `mcpbox up` (started as the README does): create server and tool over MCP, validate,
// test, request publishing, approve with the admin CLI, start the server, get the
// tools/list_changed notification on the SDK's GET SSE stream, list and call the tool;
// then the approval rules: a code change un-publishes, rollback to the approved code
// re-publishes (approval is bound to the code hash), rollback to never-approved code
// does not, a rejected tool can be re-submitted, double publish / re-approve are refused,
// stopping the server removes its tools. SIGTERM stops `mcpbox up` with exit 0.
//   MCPBOX_BUILD_DIR=/path/build ./node_modules/.bin/node --test --test-concurrency=1 tests/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { startUp, mcpbox, waitFor } from '../lib/mcpbox.mjs';

const CODE_V1 = `
async def main(name: str, times: int = 1) -> dict:
    """Greets someone, several times."""
    data = json.loads(json.dumps({"greeting": "hello " + name, "times": times}))
    data["echo"] = [name] * times
    return data
`;
const CODE_V2 = CODE_V1.replace('"hello "', '"hi "');
const CODE_V3 = CODE_V1.replace('"hello "', '"hey "');

let up;
let client;
let listChanged = 0;

before(async () => {
  up = await startUp();
  client = new Client({ name: 'mcpbox-node-e2e', version: '1.0.0' });
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => { listChanged += 1; });
  await client.connect(new StreamableHTTPClientTransport(new URL(up.url)));
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

/** Call a management tool; returns structuredContent, asserting success. */
async function manage(name, args) {
  const r = await client.callTool({ name, arguments: args });
  assert.equal(r.isError, false, `${name} failed: ${JSON.stringify(r)}`);
  assert.ok(r.structuredContent, `${name}: no structuredContent: ${JSON.stringify(r)}`);
  return r.structuredContent;
}

/** Call a management tool that must fail; returns its error text. */
async function manageFails(name, args) {
  const r = await client.callTool({ name, arguments: args });
  assert.equal(r.isError, true, `${name} should have failed: ${JSON.stringify(r)}`);
  return r.content.map((c) => c.text).join('\n');
}

async function allTools() {
  const tools = [];
  let cursor;
  do {
    const page = await client.listTools(cursor ? { cursor } : {});
    tools.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor);
  return tools;
}

const listed = async (full) => (await allTools()).some((t) => t.name === full);

/** tools/call of a user tool that must not be callable: a JSON-RPC error or isError. */
async function assertUncallable(full, args) {
  try {
    const r = await client.callTool({ name: full, arguments: args });
    assert.equal(r.isError, true, `${full} should not be callable: ${JSON.stringify(r)}`);
    return r.content.map((c) => c.text).join('\n');
  } catch (e) {
    assert.ok(e instanceof McpError, `unexpected error ${e}`);
    return e.message;
  }
}

function cli(...args) {
  return mcpbox([...args, '--data-dir', up.dataDir]);
}

function approveWithCli(toolId) {
  const r = cli('approvals', 'approve', 'tool', toolId);
  assert.equal(r.status, 0, `approve failed: ${r.stdout}${r.stderr}`);
}

test('initialize negotiated a session with tools.listChanged', () => {
  const caps = client.getServerCapabilities();
  assert.equal(caps.tools?.listChanged, true);
  assert.equal(client.getServerVersion().name, 'mcpbox');
});

test('create, validate, test, publish, approve with the CLI, start, list, call; approval rules', async () => {
  // the management tools, as the server lists them before any tool of ours exists
  const management = (await allTools()).map((t) => t.name).sort();
  assert.ok(management.length >= 20 && management.every((n) => /^mcpbox_[a-z_]+$/.test(n)),
    JSON.stringify(management));
  for (const n of ['mcpbox_create_server', 'mcpbox_create_tool', 'mcpbox_request_publish'])
    assert.ok(management.includes(n), n);

  // --- create ------------------------------------------------------------------------
  const server = await manage('mcpbox_create_server', { name: 'greeter', description: 'node e2e' });
  const serverId = server.id;
  assert.match(serverId, /^[0-9a-f-]{36}$/);
  const tool = await manage('mcpbox_create_tool', { server_id: serverId, name: 'greet', python_code: CODE_V1 });

  // --- secrets: the LLM declares a placeholder, only the admin sets the value --------------
  const secret = await manage('mcpbox_create_server_secret',
    { server_id: serverId, key: 'API_KEY', description: 'the greeting service key' });
  assert.deepEqual({ ...secret, message: undefined }, {
    success: true, server_id: serverId, key: 'API_KEY', description: 'the greeting service key',
    has_value: false, message: undefined });
  assert.match(await manageFails('mcpbox_create_server_secret', { server_id: serverId, key: 'API_KEY' }),
    /already exists/);
  assert.match(await manageFails('mcpbox_create_server_secret', { server_id: serverId, key: 'lower' }),
    /A-Z/);
  assert.match(await manageFails('mcpbox_list_server_secrets',
    { server_id: '00000000-0000-4000-8000-000000000000' }), /not found|no server/i);
  let secrets = await manage('mcpbox_list_server_secrets', { server_id: serverId });
  assert.deepEqual(secrets.secrets, [{ key: 'API_KEY', description: 'the greeting service key', has_value: false }]);
  const setByAdmin = mcpbox(['secrets', 'set', 'greeter', 'API_KEY', '--data-dir', up.dataDir],
    { input: 'node-e2e-secret-value\n' });
  assert.equal(setByAdmin.status, 0, `secrets set failed: ${setByAdmin.stdout}${setByAdmin.stderr}`);
  secrets = await manage('mcpbox_list_server_secrets', { server_id: serverId });
  assert.deepEqual(secrets.secrets, [{ key: 'API_KEY', description: 'the greeting service key', has_value: true }]);
  assert.ok(!JSON.stringify(secrets).includes('node-e2e-secret-value'));
  const toolId = tool.id;
  const full = 'greeter__greet';

  // --- validate and test ---------------------------------------------------------------
  const valid = await manage('mcpbox_validate_code', { code: CODE_V1 });
  assert.equal(valid.valid, true, JSON.stringify(valid));
  assert.equal(valid.has_main, true);
  assert.equal(valid.input_schema.type, 'object');
  assert.deepEqual(valid.input_schema.required, ['name']);
  assert.equal(valid.input_schema.properties.name.type, 'string');
  assert.equal(valid.input_schema.properties.times.type, 'integer');
  const invalid = await client.callTool({ name: 'mcpbox_validate_code', arguments: { code: 'def nope(:\n' } });
  assert.ok(invalid.isError === true || invalid.structuredContent?.valid === false, JSON.stringify(invalid));

  const tested = await manage('mcpbox_test_code', { tool_id: toolId, arguments: { name: 'ada', times: 2 } });
  assert.equal(tested.success, true, JSON.stringify(tested));
  assert.deepEqual(tested.result, { greeting: 'hello ada', times: 2, echo: ['ada', 'ada'] });

  // a draft is neither listed nor callable, even once its server runs
  assert.equal(await listed(full), false);

  // --- publish, approve with the CLI ----------------------------------------------------
  const published = await manage('mcpbox_request_publish', { tool_id: toolId, notes: 'please' });
  assert.equal(published.status, 'pending_review');
  // double publish is refused with a clear error
  const twice = await manageFails('mcpbox_request_publish', { tool_id: toolId });
  assert.match(twice, /already pending review/);

  approveWithCli(toolId);
  // re-approve is refused: the CLI exits 1 with a message
  const again = cli('approvals', 'approve', 'tool', toolId);
  assert.equal(again.status, 1, `re-approve: ${again.stdout}${again.stderr}`);
  assert.match(again.stderr, /cannot approve tool .*already approved/);
  // and publishing an approved tool is refused too
  const afterApprove = await manageFails('mcpbox_request_publish', { tool_id: toolId });
  assert.match(afterApprove, /already approved/);
  const status = await manage('mcpbox_get_tool_status', { tool_id: toolId });
  assert.equal(status.approval_status, 'approved');

  // --- start: list_changed reaches the client, the tool is listed and callable ---------
  const before = listChanged;
  const started = await manage('mcpbox_start_server', { server_id: serverId });
  assert.equal(started.status, 'running');
  await waitFor(() => listChanged > before, { timeout: 10000, what: 'notifications/tools/list_changed' });
  const entry = await waitFor(async () => (await allTools()).find((t) => t.name === full),
    { timeout: 5000, what: `${full} in tools/list` });
  assert.equal(entry.inputSchema.type, 'object');
  assert.deepEqual(entry.inputSchema.required, ['name']);
  assert.equal(entry.inputSchema.properties.name.type, 'string');
  assert.equal(entry.inputSchema.properties.times.type, 'integer');
  assert.match(entry.description ?? '', /Greets someone/);

  const called = await client.callTool({ name: full, arguments: { name: 'bob', times: 3 } });
  assert.equal(called.isError ?? false, false, JSON.stringify(called));
  assert.deepEqual(called.structuredContent, { greeting: 'hello bob', times: 3, echo: ['bob', 'bob', 'bob'] });
  const defaulted = await client.callTool({ name: full, arguments: { name: 'cy' } });
  assert.deepEqual(defaulted.structuredContent, { greeting: 'hello cy', times: 1, echo: ['cy'] });
  // arguments are validated against the schema
  await assertUncallable(full, { times: 2 });

  // --- a code change un-publishes it until re-approved --------------------------------
  let changes = listChanged;
  await manage('mcpbox_update_tool', { tool_id: toolId, python_code: CODE_V2 });
  await waitFor(async () => !(await listed(full)), { timeout: 5000, what: `${full} gone after update` });
  await assertUncallable(full, { name: 'x' });
  await waitFor(() => listChanged > changes, { timeout: 5000, what: 'list_changed after update' });
  let st = await manage('mcpbox_get_tool_status', { tool_id: toolId });
  assert.notEqual(st.approval_status, 'approved');

  // --- rollback to the approved version (1): its hash is approved, callable again -----
  let versions = await manage('mcpbox_list_tool_versions', { tool_id: toolId });
  assert.equal(versions.current_version, 2);
  const rolled = await manage('mcpbox_rollback_tool', { tool_id: toolId, version: 1 });
  assert.equal(rolled.current_version, 3, JSON.stringify(rolled));
  // the answer says what happens: the restored code is approved, callable at once
  assert.equal(rolled.approval_status, 'approved', JSON.stringify(rolled));
  assert.match(rolled.message, /callable at once/);
  assert.doesNotMatch(rolled.message, /reset/);
  await waitFor(() => listed(full), { timeout: 5000, what: `${full} back after rollback to v1` });
  const back = await client.callTool({ name: full, arguments: { name: 'dee', times: 1 } });
  assert.deepEqual(back.structuredContent, { greeting: 'hello dee', times: 1, echo: ['dee'] });
  st = await manage('mcpbox_get_tool_status', { tool_id: toolId });
  assert.equal(st.approval_status, 'approved');

  // --- rollback to a never-approved version (2) does not make it callable -------------
  const rolled2 = await manage('mcpbox_rollback_tool', { tool_id: toolId, version: 2 });
  assert.equal(rolled2.approval_status, 'draft', JSON.stringify(rolled2));
  assert.match(rolled2.message, /needs review/);
  await waitFor(async () => !(await listed(full)), { timeout: 5000, what: `${full} gone after rollback to v2` });
  await assertUncallable(full, { name: 'x' });
  st = await manage('mcpbox_get_tool_status', { tool_id: toolId });
  assert.equal(st.approval_status, 'draft');

  // --- reject, then re-submit ---------------------------------------------------------
  await manage('mcpbox_request_publish', { tool_id: toolId });
  const rej = cli('approvals', 'reject', 'tool', toolId, '--reason', 'x');
  assert.equal(rej.status, 0, rej.stdout + rej.stderr);
  st = await manage('mcpbox_get_tool_status', { tool_id: toolId });
  assert.equal(st.approval_status, 'rejected');
  assert.equal(st.rejection_reason, 'x');
  // reject without a reason is a usage error, reject of a non-pending tool is refused
  const noReason = cli('approvals', 'reject', 'tool', toolId);
  assert.equal(noReason.status, 2, noReason.stderr);
  assert.match(noReason.stderr, /--reason/);
  const rej2 = cli('approvals', 'reject', 'tool', toolId, '--reason', 'y');
  assert.equal(rej2.status, 1, rej2.stdout + rej2.stderr);
  assert.match(rej2.stderr, /cannot reject tool .*not pending review/);
  const resubmitted = await manage('mcpbox_request_publish', { tool_id: toolId, notes: 'fixed' });
  assert.equal(resubmitted.status, 'pending_review');
  assert.equal(await listed(full), false);
  approveWithCli(toolId);
  await waitFor(() => listed(full), { timeout: 5000, what: `${full} listed after approving v2's code` });
  const v2call = await client.callTool({ name: full, arguments: { name: 'eve' } });
  assert.deepEqual(v2call.structuredContent, { greeting: 'hi eve', times: 1, echo: ['eve'] });

  // a never-approved new code, then rollback to the now-approved v2 code works as well
  await manage('mcpbox_update_tool', { tool_id: toolId, python_code: CODE_V3 });
  await waitFor(async () => !(await listed(full)), { timeout: 5000, what: `${full} gone after v3` });
  versions = await manage('mcpbox_list_tool_versions', { tool_id: toolId });
  assert.equal(versions.current_version, 5);

  // --- the CLI refuses an unknown tool with exit 1 -------------------------------------
  const unknown = cli('approvals', 'approve', 'tool', '00000000-0000-4000-8000-000000000000');
  assert.equal(unknown.status, 1, unknown.stdout + unknown.stderr);
  assert.match(unknown.stderr, /\(not_found\)/);

  // --- stop: the server's tools disappear ---------------------------------------------
  await manage('mcpbox_rollback_tool', { tool_id: toolId, version: 4 });
  await waitFor(() => listed(full), { timeout: 5000, what: `${full} back after rollback to v4 (v2 code)` });
  changes = listChanged;
  const stopped = await manage('mcpbox_stop_server', { server_id: serverId });
  assert.equal(stopped.status, 'stopped');
  await waitFor(async () => !(await listed(full)), { timeout: 5000, what: `${full} gone after stop` });
  await waitFor(() => listChanged > changes, { timeout: 5000, what: 'list_changed after stop' });
  await assertUncallable(full, { name: 'x' });
  // the management tools are all still there
  const names = (await allTools()).map((t) => t.name);
  assert.deepEqual(names.filter((n) => n.startsWith('mcpbox_')).sort(), management);

  // --- the tool's execution log over MCP: newest first, the reference's fields -------
  // runs so far: test ada, calls bob, cy, dee, eve (the schema-refused calls never ran)
  const logs = await waitFor(async () => {
    const l = await manage('mcpbox_get_tool_logs', { tool_id: toolId, limit: 50 });
    return l.logs.length >= 5 ? l : null;
  }, { timeout: 10000, what: 'five runs in the execution log' });
  assert.equal(logs.tool_id, toolId);
  assert.equal(logs.logs.length, 5, JSON.stringify(logs));
  assert.deepEqual(logs.logs.map((l) => l.input_args.name), ['eve', 'dee', 'cy', 'bob', 'ada']);
  for (const l of logs.logs) {
    for (const field of ['id', 'success', 'duration_ms', 'error', 'input_args', 'result',
      'stdout', 'executed_by', 'created_at']) assert.ok(field in l, `${field} in ${JSON.stringify(l)}`);
    assert.equal(l.success, true);
    assert.equal(l.error, null);
    assert.equal(typeof l.duration_ms, 'number');
    assert.equal(l.executed_by, 'mcp:mcpbox-node-e2e');
    assert.match(l.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  }
  assert.deepEqual(logs.logs.map((l) => l.is_test), [false, false, false, false, true]);
  assert.deepEqual(JSON.parse(logs.logs[0].result), { greeting: 'hi eve', times: 1, echo: ['eve'] });
  const two = await manage('mcpbox_get_tool_logs', { tool_id: toolId, limit: 2 });
  assert.deepEqual(two.logs.map((l) => l.id), logs.logs.slice(0, 2).map((l) => l.id));
  const tooMany = await client.callTool({ name: 'mcpbox_get_tool_logs', arguments: { tool_id: toolId, limit: 51 } });
  assert.equal(tooMany.isError, true, JSON.stringify(tooMany));
});
