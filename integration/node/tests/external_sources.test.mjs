// External MCP sources end to end, with the official SDK client against a real `mcpbox up`
// and real sources on a test host with an address of its own (lib/netns.mjs; the address
// is approved by the admin as a private host of the server — loopback is never reachable):
//   @modelcontextprotocol/server-everything (npm) in Streamable HTTP mode: add, discover,
//   import, request publish, approve with the CLI, start, list and call through MCPbox;
//   the source's health in `mcpbox sources list`; the median added latency of a
//   passthrough call over a direct call to the same source; then the source changes its
//   tool (a source built with the SDK takes its place at the same URL): rediscovery
//   reports it, the tool is not callable until approved again, then answers from the
//   changed source; the tool the new source lacks (get-sum) is removed: unlisted, a call
//   says "removed at the source", the dashboard marks it; server-everything back, it is
//   restored and callable again.
//   MCPBOX_BUILD_DIR=/path/build ./node_modules/.bin/node --test tests/external_sources.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startUp, mcpbox, waitFor } from '../lib/mcpbox.mjs';
import { netnsAvailable, netnsHost } from '../lib/netns.mjs';
import { launch, instrumentedPage } from '../lib/browser.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const NODE = process.execPath;
const EVERYTHING = path.join(HERE, '..', 'node_modules', '@modelcontextprotocol',
  'server-everything', 'dist', 'index.js');
const ECHO_SOURCE = path.join(HERE, '..', 'lib', 'echo_source.mjs');
const ADMIN = { username: 'sourceadmin', password: 'correct horse battery' };
const PORT = 3001;
const skip = !netnsAvailable() && 'needs root and ip netns';

let up;
let host;
let client;
let api;

function portOpen(address, port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: address, port, timeout: 300 }, () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
    s.on('timeout', () => { s.destroy(); resolve(false); });
  });
}

async function login(base) {
  const r = await fetch(`${base}/api/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', Origin: base },
    body: JSON.stringify(ADMIN),
  });
  const text = await r.text();
  assert.equal(r.status, 200, `login: ${text}`);
  const cookie = r.headers.getSetCookie().map((c) => c.split(';')[0])
    .find((c) => c.startsWith('mcpbox_session='));
  const { csrf_token: csrf } = JSON.parse(text);
  return async (method, p, body) => {
    const res = await fetch(`${base}${p}`, {
      method, body: body ? JSON.stringify(body) : undefined,
      headers: { 'Content-Type': 'application/json', Cookie: cookie, 'X-CSRF-Token': csrf, Origin: base },
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
}

before(async () => {
  if (skip) return;
  host = netnsHost('es');
  host.spawn([NODE, EVERYTHING, 'streamableHttp'], { env: { ...process.env, PORT: String(PORT) }, stdio: 'ignore' });
  await waitFor(() => portOpen(host.address, PORT), { timeout: 30000, what: 'server-everything' });
  up = await startUp();
  const made = mcpbox(['admin', 'create', '--username', ADMIN.username, '--data-dir', up.dataDir],
    { input: `${ADMIN.password}\n` });
  assert.equal(made.status, 0, `admin create: ${made.stdout}${made.stderr}`);
  api = await login(`http://127.0.0.1:${up.port}`);
  client = new Client({ name: 'mcpbox-sources-e2e', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(up.url)));
});

after(async () => {
  try { await client?.close(); } catch {}
  if (up) {
    const res = await up.stop();
    const log = up.log();
    up.cleanup();
    assert.deepEqual(res, { code: 0, signal: null }, `mcpbox up did not exit 0:\n${log.slice(-4000)}`);
  }
  host?.close();
});

async function manage(name, args) {
  const r = await client.callTool({ name, arguments: args });
  assert.equal(r.isError, false, `${name} failed: ${JSON.stringify(r)}`);
  return r.structuredContent;
}

const cli = (...args) => mcpbox([...args, '--data-dir', up.dataDir]);

function approve(toolId) {
  const r = cli('approvals', 'approve', 'tool', toolId);
  assert.equal(r.status, 0, `approve: ${r.stdout}${r.stderr}`);
}

async function listed(full) {
  const tools = [];
  let cursor;
  do {
    const page = await client.listTools(cursor ? { cursor } : {});
    tools.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor);
  return tools.find((t) => t.name === full);
}

// A dashboard page signed in as the admin (its console and page errors recorded).
async function signedIn(browser) {
  const { page, events } = await instrumentedPage(await browser.newContext());
  await page.goto(`http://127.0.0.1:${up.port}/#/login`);
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/#\/dashboard$/, { timeout: 10000 });
  return { page, events };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

test('server-everything: add, discover, import, approve, call; a changed tool needs approval again',
  { skip }, async () => {
    const server = await manage('mcpbox_create_server', { name: 'nas' });
    const url = `http://${host.address}:${PORT}/mcp`;
    const source = await manage('mcpbox_add_external_source', { server_id: server.id, name: 'everything', url });

    // not approved yet: a private address is never reached without the admin's approval
    const refused = await client.callTool({ name: 'mcpbox_discover_external_tools',
      arguments: { source_id: source.source_id } });
    assert.equal(refused.isError, true, JSON.stringify(refused));
    assert.match(refused.content[0].text, /not in this server's allowed hosts/);
    const unhealthy = await manage('mcpbox_list_external_sources', { server_id: server.id });
    assert.equal(unhealthy.sources[0].status, 'error');
    assert.match(unhealthy.sources[0].last_error, /allowed hosts/);

    const added = await api('POST', `/api/servers/${server.id}/hosts`, { host: host.address, port: PORT });
    assert.equal(added.status, 201, JSON.stringify(added));

    const found = await manage('mcpbox_discover_external_tools', { source_id: source.source_id });
    const names = found.tools.map((t) => t.name);
    assert.ok(names.includes('echo') && names.includes('get-sum'), names.join(','));
    const remoteSum = found.tools.find((t) => t.name === 'get-sum');

    const imported = await manage('mcpbox_import_external_tools',
      { source_id: source.source_id, tool_names: ['echo', 'get-sum', 'no-such-tool'] });
    assert.equal(imported.count, 2);
    assert.deepEqual(imported.skipped_tools.map((s) => s.name), ['no-such-tool']);
    const again = await manage('mcpbox_import_external_tools',
      { source_id: source.source_id, tool_names: ['echo'] });
    assert.equal(again.count, 0, 'a second import of the same tool is skipped');
    const ids = Object.fromEntries(imported.imported_tools.map((t) => [t.name, t.id]));
    assert.deepEqual(Object.keys(ids).sort(), ['echo', 'get_sum']);

    // the reviewer sees the remote definition: description and input schema
    const got = await manage('mcpbox_get_tool', { tool_id: ids.get_sum });
    assert.equal(got.description, remoteSum.description);
    assert.deepEqual(got.input_schema.properties, remoteSum.input_schema.properties);

    // no code to test: said plainly
    const tested = await client.callTool({ name: 'mcpbox_test_code', arguments: { tool_id: ids.get_sum, arguments: { a: 1, b: 2 } } });
    assert.equal(tested.isError, true);
    assert.match(tested.content[0].text, /imported from an external source/);
    // draft: not callable; publish, approve with the CLI, start
    await manage('mcpbox_start_server', { server_id: server.id });
    assert.equal(await listed('nas__get_sum'), undefined, 'a draft is not listed');
    for (const id of Object.values(ids)) {
      await manage('mcpbox_request_publish', { tool_id: id });
      approve(id);
    }
    await waitFor(async () => !!(await listed('nas__get_sum')), { what: 'nas__get_sum listed' });

    const r = await client.callTool({ name: 'nas__get_sum', arguments: { a: 2, b: 40 } });
    assert.equal(r.isError, false, JSON.stringify(r));
    assert.match(r.content[0].text, /42/);
    // arguments are checked against the approved schema before anything is sent
    const bad = await client.callTool({ name: 'nas__get_sum', arguments: { a: 'two' } });
    assert.equal(bad.isError, true);

    // health for the admin: mcpbox sources list
    const health = cli('sources', 'list', '--server', server.id, '--json');
    assert.equal(health.status, 0, health.stderr);
    const row = JSON.parse(health.stdout).sources[0];
    assert.equal(row.status, 'active');
    assert.equal(row.tool_count, found.total);
    assert.ok(row.last_contact_at, JSON.stringify(row));

    // and on the server's page of the dashboard
    const browser = await launch();
    try {
      const { page, events } = await signedIn(browser);
      await page.goto(`http://127.0.0.1:${up.port}/#/servers/${server.id}`);
      const list = page.getByRole('list', { name: 'External sources' });
      await list.getByText('everything', { exact: true }).waitFor({ timeout: 10000 });
      const text = await list.innerText();
      assert.match(text, new RegExp(`${found.total} tools`));
      assert.match(text, /Last contact/);
      // the reviewer's view of an imported tool is its remote definition
      await page.goto(`http://127.0.0.1:${up.port}/#/tools/${ids.get_sum}`);
      const code = page.getByText('Imported from an external MCP source').first();
      await code.waitFor({ timeout: 10000 });
      const shown = await page.locator('body').innerText();
      assert.ok(shown.includes(remoteSum.description.split('\n')[0]), 'remote description shown');
      assert.ok(shown.includes('"properties"'), 'input schema shown');
      assert.deepEqual(events.errors, []);
    } finally {
      await browser.close();
    }

    // the added latency of a passthrough call over a direct one (same source, same call)
    const direct = new Client({ name: 'direct', version: '1.0.0' });
    await direct.connect(new StreamableHTTPClientTransport(new URL(url)));
    const directMs = [], viaMs = [];
    for (let i = 0; i < 15; i++) {
      let t = performance.now();
      await direct.callTool({ name: 'get-sum', arguments: { a: i, b: 1 } });
      directMs.push(performance.now() - t);
      t = performance.now();
      const v = await client.callTool({ name: 'nas__get_sum', arguments: { a: i, b: 1 } });
      viaMs.push(performance.now() - t);
      assert.equal(v.isError, false);
    }
    await direct.close();
    console.log(`passthrough latency: direct median ${median(directMs).toFixed(1)} ms, ` +
      `through MCPbox median ${median(viaMs).toFixed(1)} ms, ` +
      `added ${(median(viaMs) - median(directMs)).toFixed(1)} ms (direct client keeps its session; ` +
      'MCPbox opens one per call)');

    // the source changes its echo tool: another server takes the same address and port
    host.kill(host.procs[0]);
    await waitFor(async () => !(await portOpen(host.address, PORT)), { what: 'old source gone' });
    host.spawn([NODE, ECHO_SOURCE, String(PORT), 'Echo, now with a counter', 'count'], { stdio: 'ignore' });
    await waitFor(() => portOpen(host.address, PORT), { timeout: 20000, what: 'changed source' });
    const rediscovered = await manage('mcpbox_discover_external_tools', { source_id: source.source_id });
    assert.deepEqual(rediscovered.changed_tools.map((t) => t.id), [ids.echo]);
    assert.deepEqual(rediscovered.removed_tools, ['get-sum']);
    // get-sum is gone from the source: no longer listed, and a call says why
    await waitFor(async () => !(await listed('nas__get_sum')), { what: 'removed tool unlisted' });
    const gone = await client.callTool({ name: 'nas__get_sum', arguments: { a: 1, b: 2 } });
    assert.equal(gone.isError, true, JSON.stringify(gone));
    assert.match(gone.content[0].text, /removed at the source/);
    // the admin sees it on the server's page of the dashboard
    const browser2 = await launch();
    try {
      const { page, events } = await signedIn(browser2);
      await page.goto(`http://127.0.0.1:${up.port}/#/servers/${server.id}`);
      const row = page.getByRole('row').filter({ hasText: 'get_sum' });
      await row.getByText('removed at source').waitFor({ timeout: 10000 });
      assert.equal(await page.getByRole('row').filter({ hasText: 'removed at source' }).count(), 1);
      assert.deepEqual(events.errors, []);
    } finally {
      await browser2.close();
    }
    await waitFor(async () => !(await listed('nas__echo')), { what: 'changed tool unlisted' });
    const blocked = await client.callTool({ name: 'nas__echo', arguments: { message: 'x' } })
      .catch((e) => ({ isError: true, content: [{ text: String(e) }] }));
    assert.equal(blocked.isError, true, 'a changed tool is not callable before approval');
    const versions = await manage('mcpbox_list_tool_versions', { tool_id: ids.echo });
    assert.equal(versions.current_version, 2);
    // an imported tool follows its source: no rollback to the old approved definition,
    // no code of its own
    const rollback = await client.callTool({ name: 'mcpbox_rollback_tool', arguments: { tool_id: ids.echo, version: 1 } });
    assert.equal(rollback.isError, true, JSON.stringify(rollback));
    assert.match(rollback.content[0].text, /follows the source/);
    const recode = await client.callTool({ name: 'mcpbox_update_tool',
      arguments: { tool_id: ids.echo, python_code: 'async def main():\n    return 1\n' } });
    assert.equal(recode.isError, true, JSON.stringify(recode));
    const status = await manage('mcpbox_get_tool_status', { tool_id: ids.echo });
    assert.notEqual(status.approval_status, 'approved');
    await manage('mcpbox_request_publish', { tool_id: ids.echo });
    approve(ids.echo);
    await waitFor(async () => !!(await listed('nas__echo')), { what: 'nas__echo listed again' });
    const tool = await listed('nas__echo');
    assert.equal(tool.description, 'Echo, now with a counter');
    const after2 = await client.callTool({ name: 'nas__echo', arguments: { message: 'hi', count: 1 } });
    assert.equal(after2.isError, false, JSON.stringify(after2));
    assert.equal(after2.content[0].text, 'Echo, now with a counter: hi');

    // server-everything is back: get-sum is offered again, unchanged, so it is restored
    // and callable at once under the approval it had
    host.kill(host.procs[host.procs.length - 1]);
    await waitFor(async () => !(await portOpen(host.address, PORT)), { what: 'echo source gone' });
    host.spawn([NODE, EVERYTHING, 'streamableHttp'], { env: { ...process.env, PORT: String(PORT) }, stdio: 'ignore' });
    await waitFor(() => portOpen(host.address, PORT), { timeout: 30000, what: 'server-everything again' });
    const back = await manage('mcpbox_discover_external_tools', { source_id: source.source_id });
    assert.deepEqual(back.restored_tools.map((t) => [t.id, t.changed]), [[ids.get_sum, false]]);
    await waitFor(async () => !!(await listed('nas__get_sum')), { what: 'restored tool listed' });
    const sum = await client.callTool({ name: 'nas__get_sum', arguments: { a: 20, b: 22 } });
    assert.equal(sum.isError, false, JSON.stringify(sum));
    assert.match(sum.content[0].text, /42/);
  });
