// The admin's whole flow in a real browser (Debian's chromium, headless, driven
// by playwright-core) against a real `mcpbox up` started in a temp data dir,
// with the official MCP SDK client playing the LLM:
//   first-run setup → sign in → the client creates a server and a tool and asks
//   for publishing → the tool appears on Approvals without a reload (timed) →
//   the admin opens its code and approves it in the page → the client gets
//   notifications/tools/list_changed and calls the tool → the call appears in the
//   live activity list (role=log) within a second (timed);
// a second tool rejected with a reason in the page, the reason seen by the LLM
// through mcpbox_get_tool_status; a secret value set in the page and never shown
// back (page or any /api answer); the policy changed in the page (the warning
// beside the weaker choice, the change in GET /api/settings); every page at
// 360 px; XSS probes in everything the LLM or a tool controls, checked inert in
// the browser. Screenshots of every page and the figures go to
// integration/artifacts/ (not committed).
//   MCPBOX_BUILD_DIR=/path/build ./node_modules/.bin/node --test --test-concurrency=1 tests/dashboard.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { startUp, waitFor } from '../lib/mcpbox.mjs';
import { launch, instrumentedPage, shot, ARTIFACTS } from '../lib/browser.mjs';

const ADMIN = { username: 'dashadmin', password: 'dashboard-flow-password-1' };
const SECRET_VALUE = 'sk-dashboard-Zq8v1Lm3Xr7';
const CODE = `
async def main(name: str) -> dict:
    """Says hello."""
    return {"greeting": "hello " + name}
`;
// what each probe would do if it ever ran: set the sentinel, open a dialog
const RUN = 'window.__xss=1;alert(1)';
const PROBES = [
  `<script>${RUN}</script>`,
  `<img src=x onerror="${RUN}">`,
  `<a href="javascript:${RUN}">click</a>`,
  `javascript:${RUN}`,
  `[link](javascript:${RUN})`,
];
const PROBE = PROBES.join(' ');

let up;
let base;
let browser;
let context;
let page;
let events;
let client;
let listChanged = 0;
const figures = {};
const apiBodies = [];     // every /api answer the dashboard received
const wsFrames = [];      // every /ws message the dashboard received

before(async () => {
  up = await startUp();
  base = `http://127.0.0.1:${up.port}`;
  browser = await launch();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  ({ page, events } = await instrumentedPage(context));
  page.on('response', async (res) => {
    if (!new URL(res.url()).pathname.startsWith('/api/')) return;
    try { apiBodies.push(await res.text()); } catch { /* navigated away */ }
  });
  page.on('websocket', (ws) => ws.on('framereceived', (f) => wsFrames.push(String(f.payload))));
  client = new Client({ name: 'mcpbox-dashboard-e2e', version: '1.0.0' });
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => { listChanged += 1; });
  await client.connect(new StreamableHTTPClientTransport(new URL(up.url)));
});

after(async () => {
  try { await client?.close(); } catch {}
  try { await browser?.close(); } catch {}
  if (Object.keys(figures).length) {
    writeFileSync(path.join(ARTIFACTS, 'dashboard-figures.json'), `${JSON.stringify(figures, null, 2)}\n`);
    console.log(`dashboard figures: ${JSON.stringify(figures)}`);
  }
  if (up) {
    const res = await up.stop();
    const log = up.log();
    up.cleanup();
    assert.deepEqual(res, { code: 0, signal: null }, `mcpbox up did not exit 0 on SIGTERM:\n${log.slice(-4000)}`);
  }
});

async function manage(name, args) {
  const r = await client.callTool({ name, arguments: args });
  assert.equal(r.isError ?? false, false, `${name} failed: ${JSON.stringify(r)}`);
  return r.structuredContent;
}

/** Nothing ran that should not have, on page p. */
async function assertInert(p, ev, where) {
  const inPage = await p.evaluate(() => ({
    hits: window.__xssHits || 0,
    violations: window.__violations || [],
    scripts: [...document.scripts].map((s) => s.src || 'inline'),
    handlers: [...document.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => /^on/i.test(a.name))).length,
    images: document.querySelectorAll('img, iframe, object, embed, svg image').length,
    badLinks: [...document.querySelectorAll('a[href]')].map((a) => a.getAttribute('href'))
      .filter((href) => href !== '#main' && !/^(#\/|\/(?!\/))/.test(href)),   // #main: the skip link
  }));
  assert.deepEqual(ev.dialogs, [], `${where}: a dialog opened`);
  assert.deepEqual(ev.errors, [], `${where}: page errors`);
  assert.equal(inPage.hits, 0, `${where}: a probe ran (window.__xss set)`);
  assert.deepEqual(inPage.violations, [], `${where}: CSP violations`);
  assert.equal(inPage.handlers, 0, `${where}: an element has an inline on* handler`);
  assert.deepEqual(inPage.scripts, [`${base}/app/main.js`], `${where}: unexpected scripts`);
  assert.equal(inPage.images, 0, `${where}: an element made from a probe`);
  assert.deepEqual(inPage.badLinks, [], `${where}: a link outside the app`);
}

const nav = (p = page) => p.getByRole('navigation', { name: 'Main' });
async function open(name, p = page) {
  await nav(p).getByRole('link', { name, exact: true }).click();
  await p.getByRole('heading', { level: 1, name }).waitFor({ timeout: 10000 });
}

let serverId;
let toolId;

test('first-run setup, then sign in by the accessible names', async () => {
  await page.goto(`${base}/`);
  await page.waitForURL(/#\/setup$/, { timeout: 10000 });
  await shot(page, 'page-setup');
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(/#\/login$/, { timeout: 10000 });
  await shot(page, 'page-login');
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/#\/dashboard$/, { timeout: 10000 });
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  await page.getByText('Live', { exact: true }).waitFor({ timeout: 5000 });
  await assertInert(page, events, 'signed in');
});

test('published over MCP → on Approvals without a reload → code read, approved in the page → list_changed, call → live activity', async () => {
  await open('Approvals');
  await page.getByText('No tools waiting for review.').waitFor();
  const marker = await page.evaluate(() => { window.__noReload = true; return true; });

  const server = await manage('mcpbox_create_server', { name: 'dash', description: 'browser flow' });
  serverId = server.id;
  toolId = (await manage('mcpbox_create_tool', { server_id: serverId, name: 'hello', description: 'says hello',
                                                 python_code: CODE })).id;
  await manage('mcpbox_start_server', { server_id: serverId });
  const published = Date.now();
  await manage('mcpbox_request_publish', { tool_id: toolId, notes: 'a greeting, nothing else' });
  const item = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'dash__hello' }) });
  await item.waitFor({ timeout: 5000 });
  figures.approvals_appear_ms = Date.now() - published;
  assert.ok(figures.approvals_appear_ms < 2000, `the tool took ${figures.approvals_appear_ms} ms to appear`);
  assert.equal(await page.evaluate(() => window.__noReload), marker, 'the page was reloaded');
  await item.getByText('a greeting, nothing else').waitFor();

  await item.getByRole('button', { name: 'Show code' }).click();
  await item.getByRole('heading', { name: 'Code of dash__hello' }).waitFor({ timeout: 5000 });
  await item.getByText('"hello "').first().waitFor();
  await shot(page, 'page-approvals-code');
  const changes = listChanged;
  await item.getByRole('button', { name: 'Approve', exact: true }).click();
  await page.getByText('dash__hello approved.').waitFor({ timeout: 5000 });
  await item.waitFor({ state: 'detached', timeout: 5000 });
  const st = await manage('mcpbox_get_tool_status', { tool_id: toolId });
  assert.equal(st.approval_status, 'approved');

  await waitFor(() => listChanged > changes, { timeout: 5000, what: 'notifications/tools/list_changed' });
  await waitFor(async () => (await client.listTools()).tools.some((t) => t.name === 'dash__hello'),
    { timeout: 5000, what: 'dash__hello listed' });

  // a call made while the page's first GET /api/activity is on its way: that answer (held
  // back here until the page got the call's /ws event) does not have it, the event does,
  // and the history that arrives after it must not wipe it from the list
  let seenCall = false;
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await page.route('**/api/activity?*', async (route) => {
    const stale = await route.fetch();
    const body = await stale.text();
    const from = wsFrames.length;
    await client.callTool({ name: 'dash__hello', arguments: { name: 'early' } });
    seenCall = await waitFor(() => wsFrames.slice(from).some((f) => f.includes('tool.called')),
      { timeout: 8000, what: 'the early call event in the page' }).catch(() => false);
    await route.fulfill({ response: stale, body });
    release();
  }, { times: 1 });
  await open('Activity');
  const log = page.getByRole('log', { name: 'Activity' });
  await held;
  assert.ok(seenCall, 'the page never got the early call\'s tool.called event');
  await page.waitForTimeout(500);     // the held history is in the list by now
  assert.ok(await log.locator('li[data-type="tool.called"]').count() >= 1,
    'the early call, announced while the history was on its way, is missing from the list');
  await page.getByText('Streaming live.').waitFor({ timeout: 5000 });
  const sent = Date.now();
  const called = await client.callTool({ name: 'dash__hello', arguments: { name: 'ada' } });
  const answered = Date.now();
  assert.deepEqual(called.structuredContent, { greeting: 'hello ada' });
  await log.locator('li[data-type="tool.called"]').filter({ hasText: 'dash__hello' }).first()
    .waitFor({ timeout: 3000 });
  const shown = Date.now();
  figures.call_to_activity_ms = shown - answered;
  figures.call_sent_to_activity_ms = shown - sent;
  assert.ok(figures.call_to_activity_ms < 1000, `the call took ${figures.call_to_activity_ms} ms to show`);
  await log.locator('li[data-type="approval.tool_approved"]').first().waitFor({ timeout: 3000 });
  await shot(page, 'page-activity');
  await assertInert(page, events, 'approve flow');
});

test('the executor pool on the Dashboard: host, busy/credit, calls served, restarts; a killed executor shows its restart without a reload', async () => {
  await open('Dashboard');
  const table = page.getByRole('table', { name: 'Executor pool' });
  await table.waitFor({ timeout: 5000 });
  const headers = (await table.locator('thead th').allTextContents()).map((t) => t.trim());
  for (const name of ['Executor', 'Host', 'Busy / credit', 'Calls served', 'Restarts']) {
    assert.ok(headers.includes(name), `no column ${name}: ${headers}`);
    assert.ok(await table.getByRole('columnheader', { name, exact: true }).isVisible(), name);
  }
  const col = (name) => headers.indexOf(name);
  // at phone width the table scrolls inside its own box, which the keyboard can reach
  const wrap = page.getByRole('region', { name: 'Executor pool table' });
  assert.equal(await wrap.getAttribute('tabindex'), '0');
  assert.equal(await wrap.locator('table').count(), 1);
  const rows = table.locator('tbody tr');
  const cells = async (row) => (await row.locator('th, td').allTextContents()).map((t) => t.trim());
  await waitFor(async () => (await rows.count()) === 2, { timeout: 5000, what: 'two executor rows' });
  const dash = await (await page.request.get(`${base}/api/dashboard`)).json();
  assert.equal(dash.executors.length, 2, JSON.stringify(dash));
  let served = 0;
  for (let i = 0; i < 2; i += 1) {
    const c = await cells(rows.nth(i));
    const x = dash.executors.find((e) => e.process === c[0]);
    assert.ok(x, `row ${c} is not an executor of /api/dashboard`);
    assert.equal(c[col('Host')], hostname());
    assert.match(c[col('Busy / credit')], /^\d+ \/ \d+$/);
    assert.equal(c[col('Restarts')], '0');
    served += Number(c[col('Calls served')]);
  }
  assert.ok(served >= 2, `the calls of the flow are not counted as served: ${served}`);

  // SIGKILL one executor: its supervisor starts it again, and the row says so
  const marker = await page.evaluate(() => { window.__noReload = 'pool'; return 'pool'; });
  const victim = dash.executors[0];
  process.kill(victim.pid, 'SIGKILL');
  const killed = Date.now();
  const row = rows.filter({ has: page.getByRole('rowheader', { name: victim.process, exact: true }) });
  await waitFor(async () => (await row.count()) === 1 && (await cells(row))[col('Restarts')] === '1'
      && (await cells(row))[col('PID')] !== String(victim.pid),
    { timeout: 15000, what: `${victim.process} shown restarted` });
  figures.executor_restart_shown_ms = Date.now() - killed;
  assert.equal(await page.evaluate(() => window.__noReload), marker, 'the page was reloaded');
  await shot(page, 'page-dashboard-pool');
  await assertInert(page, events, 'dashboard pool');
});

test('reject a second tool with a reason in the page; the LLM sees the reason', async () => {
  // the Activity page narrows the stream (sign-ins only) and must widen it again when left:
  // a filter kept on the socket would hold back tool.publish_requested on Approvals
  await open('Activity');
  await page.getByLabel('Type').selectOption({ label: 'Sign-ins' });
  await page.getByText('Streaming live.').waitFor({ timeout: 5000 });
  // the tool is published while the page's first GET /api/approvals is on its way: its answer
  // (held back here until the page got the /ws event) does not have it, the event does
  let second;
  let published;
  let seenEvent = false;
  await page.route('**/api/approvals', async (route) => {
    const stale = await route.fetch();
    const body = await stale.text();
    const from = wsFrames.length;
    second = (await manage('mcpbox_create_tool', { server_id: serverId, name: 'second', description: 'too broad',
                                                   python_code: CODE })).id;
    published = Date.now();
    await manage('mcpbox_request_publish', { tool_id: second, notes: 'also this' });
    seenEvent = await waitFor(() => wsFrames.slice(from).some((f) => f.includes('tool.publish_requested')),
      { timeout: 3000, what: 'the publish event in the page' }).catch(() => false);
    await route.fulfill({ response: stale, body });
  }, { times: 1 });
  await open('Approvals');
  const item = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'dash__second' }) });
  await item.waitFor({ timeout: 5000 });
  figures.approvals_appear_second_ms = Date.now() - published;
  assert.ok(seenEvent, 'the page never got the tool.publish_requested event');
  assert.ok(figures.approvals_appear_second_ms < 2000,
    `the second tool took ${figures.approvals_appear_second_ms} ms to appear`);
  await item.getByRole('button', { name: 'Reject', exact: true }).click();
  const reason = 'reads more than it needs: narrow it to one name';
  await item.getByLabel('Reason for rejecting dash__second').fill(reason);
  await shot(page, 'page-approvals-reject');
  await item.getByRole('button', { name: 'Reject', exact: true }).click();
  await page.getByText('dash__second rejected.').waitFor({ timeout: 5000 });
  const st = await manage('mcpbox_get_tool_status', { tool_id: second });
  assert.equal(st.approval_status, 'rejected', JSON.stringify(st));
  assert.ok(JSON.stringify(st).includes(reason), `the LLM does not see the reason: ${JSON.stringify(st)}`);
});

test('a secret value set in the page is never shown back', async () => {
  await manage('mcpbox_create_server_secret', { server_id: serverId, key: 'API_KEY', description: 'the key' });
  await open('Servers');
  await shot(page, 'page-servers');
  await page.getByRole('link', { name: 'dash', exact: true }).click();
  const input = page.getByLabel('Value for API_KEY');
  await input.waitFor({ timeout: 5000 });
  await input.fill(SECRET_VALUE);
  await page.getByRole('button', { name: 'Save value' }).click();
  await page.getByText('Value of API_KEY saved.').waitFor({ timeout: 5000 });
  await page.getByText('value set', { exact: true }).waitFor({ timeout: 5000 });
  assert.equal(await page.getByLabel('Value for API_KEY').inputValue(), '');
  await shot(page, 'page-server');
  await open('Approvals');
  await open('Servers');
  await page.getByRole('link', { name: 'dash', exact: true }).click();
  await page.getByLabel('Value for API_KEY').waitFor({ timeout: 5000 });
  // not in the page (text, attributes, values), not in any /api answer the page got nor in these
  const inPage = await page.evaluate((v) => document.documentElement.outerHTML.includes(v)
    || [...document.querySelectorAll('input, textarea')].some((e) => e.value.includes(v)), SECRET_VALUE);
  assert.equal(inPage, false, 'the secret value is in the page');
  for (const p of ['/api/servers', `/api/servers/${serverId}`, `/api/servers/${serverId}/secrets`,
    '/api/activity?limit=100', '/api/dashboard', `/api/tools/${toolId}`, '/api/logs?limit=50']) {
    apiBodies.push(await page.evaluate(async (u) => (await fetch(u)).text(), p));
  }
  assert.ok(apiBodies.length > 10, `only ${apiBodies.length} /api answers seen`);
  assert.ok(!apiBodies.some((b) => b.includes(SECRET_VALUE)), 'an /api answer holds the secret value');
});

test('the security policy changed in the page: the warning beside the weaker choice, the change in GET /api/settings', async () => {
  await open('Settings');
  const group = page.getByRole('group', { name: /Module requests/ });
  const weaker = group.getByRole('radio', { name: 'auto_approve' });
  await weaker.waitFor({ timeout: 5000 });
  const warning = group.locator('#set-module_approval_mode-auto_approve-warn');
  assert.ok(await warning.isVisible(), 'no warning beside the weaker choice');
  assert.match(await warning.textContent(), /Warning:/);
  assert.equal(await weaker.getAttribute('aria-describedby'), 'set-module_approval_mode-auto_approve-warn');
  assert.equal(await group.getByRole('radio', { name: /require_approval/ }).isChecked(), true);
  await weaker.check();
  await page.getByRole('button', { name: 'Save policy' }).click();
  await page.getByText(/Policy saved \(module_approval_mode\)/).waitFor({ timeout: 5000 });
  await shot(page, 'page-settings');
  const got = await page.evaluate(async () => (await fetch('/api/settings')).json());
  assert.equal(got.settings.module_approval_mode, 'auto_approve', JSON.stringify(got));
  assert.equal(await page.getByRole('group', { name: /Module requests/ }).getByRole('radio', { name: 'auto_approve' })
    .isChecked(), true);
});

test('XSS probes in descriptions, code, notes, secrets, justifications, logs and activity stay inert', async () => {
  // names are the one field the registry refuses outright: nothing to render
  const badName = await client.callTool({ name: 'mcpbox_create_tool',
    arguments: { server_id: serverId, name: '<img src=x onerror=alert(1)>', python_code: CODE } });
  assert.equal(badName.isError, true, 'a tool name with markup was accepted');
  const xs = await manage('mcpbox_create_server', { name: 'probes', description: PROBE });
  const code = `
async def main(q: str) -> dict:
    """${PROBES.slice(0, 3).join(' ').replace(/"/g, "'")}"""
    print(${JSON.stringify(PROBE)})
    # ${PROBE}
    return {"html": q + ${JSON.stringify(PROBE)}}
`;
  const tool = (await manage('mcpbox_create_tool', { server_id: xs.id, name: 'probe', description: PROBE,
                                                     python_code: code })).id;
  await manage('mcpbox_create_server_secret', { server_id: xs.id, key: 'PROBE_KEY', description: PROBE });
  await manage('mcpbox_request_network_access', { tool_id: tool, host: 'example.com', justification: PROBE });
  const tested = await manage('mcpbox_test_code', { tool_id: tool, arguments: { q: PROBE } });
  assert.equal(tested.success, true, JSON.stringify(tested));
  await manage('mcpbox_request_publish', { tool_id: tool, notes: PROBE });

  await open('Approvals');
  const item = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'probes__probe' }) });
  await item.waitFor({ timeout: 5000 });
  await item.getByRole('button', { name: 'Show code' }).click();
  await item.getByRole('heading', { name: 'Code of probes__probe' }).waitFor({ timeout: 5000 });
  await item.getByText(PROBES[1]).first().waitFor();      // shown as text
  await shot(page, 'page-approvals-probes');
  await assertInert(page, events, 'approvals with probes');

  await page.goto(`${base}/#/tools/${encodeURIComponent(tool)}`);
  await page.getByRole('heading', { level: 1 }).waitFor();
  await page.getByText(PROBES[0]).first().waitFor({ timeout: 5000 });
  await shot(page, 'page-tool');
  await assertInert(page, events, 'tool page with probes');

  await page.goto(`${base}/#/servers/${encodeURIComponent(xs.id)}`);
  await page.getByText(PROBE).first().waitFor({ timeout: 5000 });
  await assertInert(page, events, 'server page with probes');

  // the probe server's activity (its description, notes, the test run) in the live list
  await open('Activity');
  await page.getByRole('log', { name: 'Activity' }).locator('li').first().waitFor({ timeout: 5000 });
  await assertInert(page, events, 'activity with probes');
  await open('Dashboard');
  await page.getByRole('log').first().waitFor({ timeout: 5000 });
  await shot(page, 'page-dashboard');
  await assertInert(page, events, 'dashboard with probes');
});

test('an approved tool changed by the LLM: the diff against the approved version (jsdiff) and the code (highlighted) in the page', async () => {
  const changed = CODE.replace('    return {', '    # <img src=x onerror="window.__xss=1"> changed\n    return {');
  await manage('mcpbox_update_tool', { tool_id: toolId, python_code: changed });
  await page.goto(`${base}/#/tools/${encodeURIComponent(toolId)}`);
  const diff = page.getByLabel('Diff against the approved version');
  await diff.waitFor({ timeout: 5000 });
  const lines = await diff.locator('.diff-line').evaluateAll((els) => els.map((e) => [e.className, e.textContent]));
  assert.deepEqual(lines.filter(([c]) => /diff-(add|del)/.test(c)).map(([, t]) => t),
    ['added: +    # <img src=x onerror="window.__xss=1"> changed'], JSON.stringify(lines));
  assert.ok(lines.some(([c, t]) => c.includes('diff-hunk') && t.startsWith('@@ -')), JSON.stringify(lines));
  const code = page.getByLabel(/^Code of dash__hello/).first();
  assert.equal(await code.locator('.tok-keyword', { hasText: 'async' }).count() >= 1, true);
  assert.equal(await code.locator('.tok-comment', { hasText: 'onerror' }).count(), 1);
  await shot(page, 'page-tool-diff');
  await assertInert(page, events, 'tool page with a diff');
});

test('light and dark schemes: the dashboard follows prefers-color-scheme, text readable in both (WCAG AA contrast), charts drawn', async () => {
  const state = await context.storageState();
  const seen = {};
  for (const colorScheme of ['light', 'dark']) {
    const ctx = await browser.newContext({ viewport: { width: 1024, height: 900 }, colorScheme, storageState: state });
    const { page: p, events: ev } = await instrumentedPage(ctx);
    await p.goto(`${base}/#/dashboard`);
    await p.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 10000 });
    await p.locator('.chart canvas').first().waitFor({ timeout: 5000 });
    const got = await p.evaluate(() => {
      const rgb = (c) => (c.match(/[\d.]+/g) || []).slice(0, 3).map(Number);
      const lum = ([r, g, b]) => {
        const f = (v) => { const x = v / 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; };
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
      };
      const contrast = (a, b) => { const [x, y] = [lum(rgb(a)), lum(rgb(b))].sort((m, n) => n - m); return (x + 0.05) / (y + 0.05); };
      const css = (sel, prop) => getComputedStyle(document.querySelector(sel))[prop];
      const bg = css('body', 'backgroundColor');
      const panel = css('.chart-figure', 'backgroundColor');
      return {
        bg_luminance: lum(rgb(bg)),
        text: contrast(css('body', 'color'), bg),
        muted: contrast(css('.chart-figure .muted', 'color'), panel),
        link: contrast(css('main a[href="#/activity"]', 'color'), bg),
        legend: contrast(css('.chart .u-legend', 'color'), panel),
        header: contrast(css('.executors th, table th', 'color'), bg),
      };
    });
    seen[colorScheme] = got;
    for (const k of ['text', 'muted', 'link', 'legend', 'header']) {
      assert.ok(got[k] >= 4.5, `${colorScheme}: ${k} contrast ${got[k].toFixed(2)} < 4.5`);
    }
    await p.screenshot({ path: path.join(ARTIFACTS, `scheme-${colorScheme}-dashboard.png`), fullPage: true });
    await assertInert(p, ev, `${colorScheme} scheme`);
    await ctx.close();
  }
  assert.ok(seen.light.bg_luminance > 0.8 && seen.dark.bg_luminance < 0.05, JSON.stringify(seen));
});

test('the dashboard at 360 px: no horizontal scroll, the navigation usable; its weight and time to interactive', async () => {
  const state = await context.storageState();
  const phone = await browser.newContext({ viewport: { width: 360, height: 740 }, storageState: state });
  const { page: p, events: ev } = await instrumentedPage(phone);
  const t0 = Date.now();
  await p.goto(`${base}/#/dashboard`);
  await p.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 10000 });
  const wall = Date.now() - t0;
  await p.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  const perf = await p.evaluate(() => {
    const navEntry = performance.getEntriesByType('navigation')[0];
    const res = performance.getEntriesByType('resource');
    const api = res.filter((r) => new URL(r.name).pathname.startsWith('/api/'));
    const files = res.filter((r) => !new URL(r.name).pathname.startsWith('/api/'));
    const sum = (list, f) => list.reduce((a, r) => a + (r[f] || 0), 0);
    return {
      interactive_ms: Math.round(performance.now()),
      dom_content_loaded_ms: Math.round(navEntry.domContentLoadedEventEnd),
      files: 1 + files.length,
      file_bytes: navEntry.decodedBodySize + sum(files, 'decodedBodySize'),
      api_requests: api.length,
      api_bytes: sum(api, 'decodedBodySize'),
      transferred_bytes: navEntry.transferSize + sum(res, 'transferSize'),
    };
  });
  figures.dashboard = { ...perf, interactive_wall_ms: wall };
  assert.ok(perf.interactive_ms < 3000, `time to interactive ${perf.interactive_ms} ms`);
  assert.ok(perf.file_bytes + perf.api_bytes < 400 * 1024, `page weight ${perf.file_bytes + perf.api_bytes}`);
  for (const name of ['Dashboard', 'Servers', 'Approvals', 'Activity', 'Settings']) {
    const link = nav(p).getByRole('link', { name, exact: true });
    assert.ok(await link.isVisible(), `${name} link hidden at 360 px`);
    const box = await link.boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 360 && box.height >= 24, `${name} link: ${JSON.stringify(box)}`);
    await link.click();
    await p.getByRole('heading', { level: 1, name }).waitFor({ timeout: 10000 });
    await p.waitForTimeout(50);
    const width = await p.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 360, `${name} overflows at 360 px: ${width}`);
    await p.screenshot({ path: path.join(ARTIFACTS, `phone-${name.toLowerCase()}.png`), fullPage: true });
  }
  await p.goto(`${base}/#/tools/${encodeURIComponent(toolId)}`);
  await p.getByText('"hello "').first().waitFor({ timeout: 5000 });
  const width = await p.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 360, `the tool page overflows at 360 px: ${width}`);
  await p.screenshot({ path: path.join(ARTIFACTS, 'phone-tool.png'), fullPage: true });
  await assertInert(p, ev, 'phone');
  await phone.close();
});
