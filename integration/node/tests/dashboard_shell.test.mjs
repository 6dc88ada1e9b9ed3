// The dashboard's shell in a real browser (Debian's chromium, headless, driven
// by playwright-core) against a real `mcpbox up`, using only the gateway's
// static files and /api/auth: the CSP and other headers on every static answer,
// encoded traversal refused, sign in with the accessible names, the navigation
// links, a session whose access cookie is gone refreshed once (with the CSRF
// token) instead of signing out, sign out, the sign-in page at 360 px, and the
// sign-in page's weight and time to interactive. Every page is checked for
// anything that ran that should not have (dialogs, page errors, CSP violations).
// The whole admin flow is in dashboard.test.mjs.
//   MCPBOX_BUILD_DIR=/path/build ./node_modules/.bin/node --test --test-concurrency=1 tests/dashboard_shell.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startUp, mcpbox } from '../lib/mcpbox.mjs';
import { launch, instrumentedPage, shot, ARTIFACTS } from '../lib/browser.mjs';

const ADMIN = { username: 'shelladmin', password: 'dashboard-shell-password-1' };
let up;
let base;
let browser;
let context;
let page;
let events;

before(async () => {
  up = await startUp();
  base = `http://127.0.0.1:${up.port}`;
  const made = mcpbox(['admin', 'create', '--username', ADMIN.username, '--data-dir', up.dataDir],
    { input: `${ADMIN.password}\n` });
  assert.equal(made.status, 0, `admin create: ${made.stdout}${made.stderr}`);
  browser = await launch();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  ({ page, events } = await instrumentedPage(context));
});

after(async () => {
  try { await browser?.close(); } catch {}
  if (up) {
    const res = await up.stop();
    const log = up.log();
    up.cleanup();
    assert.deepEqual(res, { code: 0, signal: null }, `mcpbox up did not exit 0 on SIGTERM:\n${log.slice(-4000)}`);
  }
});

async function assertInert(where) {
  const inPage = await page.evaluate(() => ({
    hits: window.__xssHits || 0,
    violations: window.__violations || [],
    scripts: [...document.scripts].map((s) => s.src || 'inline'),
    handlers: [...document.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => /^on/i.test(a.name))).length,
  }));
  assert.deepEqual(events.dialogs, [], `${where}: a dialog opened`);
  assert.deepEqual(events.errors, [], `${where}: page errors`);
  assert.equal(inPage.hits, 0, `${where}: script ran`);
  assert.deepEqual(inPage.violations, [], `${where}: CSP violations (inline script/style somewhere)`);
  assert.equal(inPage.handlers, 0, `${where}: an element has an inline on* handler`);
  assert.deepEqual(inPage.scripts, [`${base}/app/main.js`], `${where}: unexpected scripts`);
}

test('static files: CSP and headers on every page and module, traversal refused', async () => {
  const modules = ['/app/main.js', '/app/dom.js', '/app/api.js', '/app/live.js', '/app/page_approvals.js'];
  for (const p of ['/', '/index.html', '/style.css', ...modules]) {
    const res = await fetch(`${base}${p}`);
    assert.equal(res.status, 200, p);
    const csp = res.headers.get('content-security-policy') || '';
    assert.match(csp, /default-src 'self'/, `${p}: CSP`);
    assert.match(csp, /script-src 'self'/, `${p}: CSP`);
    assert.match(csp, /style-src 'self'/, `${p}: CSP`);
    assert.match(csp, /frame-ancestors 'none'/, `${p}: CSP`);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/, `${p}: CSP`);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff', p);
    const type = res.headers.get('content-type') || '';
    if (p.endsWith('.js')) assert.match(type, /javascript/, p);
    else if (p.endsWith('.css')) assert.match(type, /text\/css/, p);
    else assert.match(type, /text\/html/, p);
    await res.arrayBuffer();
  }
  for (const p of ['/app/%2e%2e/%2e%2e/CMakeLists.txt', '/app/..%2f..%2fCMakeLists.txt', '/%2e%2e/%2e%2e/etc/passwd',
    '/app/%252e%252e/README.md', '/..%5c..%5cREADME.md']) {
    const res = await fetch(`${base}${p}`);
    assert.ok([400, 403, 404].includes(res.status), `${p}: ${res.status}`);
    assert.doesNotMatch(await res.text(), /cmake_minimum_required|root:x:0|# MCPbox/);
  }
});

test('sign in by the accessible names; navigation links; a lost access cookie is refreshed once; sign out', async () => {
  await page.goto(`${base}/#/dashboard`);
  await page.waitForURL(/#\/login$/, { timeout: 10000 });
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password').fill('not-the-password-123');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').waitFor({ timeout: 10000 });
  await shot(page, 'shell-login-refused');
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/#\/dashboard$/, { timeout: 10000 });
  const nav = page.getByRole('navigation', { name: 'Main' });
  for (const name of ['Dashboard', 'Servers', 'Approvals', 'Activity', 'Settings']) {
    await nav.getByRole('link', { name, exact: true }).click();
    await page.waitForURL(new RegExp(`#/${name.toLowerCase()}$`));
    await page.getByRole('heading', { level: 1, name }).waitFor({ timeout: 10000 });
  }
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'mcpbox_session');
  assert.ok(session && session.httpOnly && session.sameSite === 'Strict', JSON.stringify(cookies));
  assert.equal(await page.evaluate(() => document.cookie), '', 'a cookie is readable by script');

  // the access cookie gone (as when it expires): one refresh with the CSRF token, the page stays signed in.
  // The Settings page's own requests settle first: one of them answered 401 would refresh from the
  // old page, and a reload that aborts that rotation's answer leaves the browser the spent refresh
  // token (reuse signs the login out, by design).
  await page.waitForLoadState('networkidle');
  await context.clearCookies({ name: 'mcpbox_session' });
  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor({ timeout: 10000 });
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  assert.ok((await context.cookies()).some((c) => c.name === 'mcpbox_session'), 'no new session cookie');
  assert.equal(await page.evaluate(async () => (await fetch('/api/auth/me')).status), 200);
  await assertInert('signed in');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/#\/login$/, { timeout: 10000 });
  assert.equal(await page.evaluate(async () => (await fetch('/api/auth/me')).status), 401);
  await page.goto(`${base}/#/approvals`);
  await page.waitForURL(/#\/login$/, { timeout: 10000 });   // signed out: every page sends to sign in
  await assertInert('signed out');
});

test('the sign-in page at 360 px, keyboard only; its weight and time to interactive (cold cache)', async () => {
  const phone = await browser.newContext({ viewport: { width: 360, height: 740 } });
  const p = await phone.newPage();
  const t0 = Date.now();
  await p.goto(`${base}/#/login`);
  await p.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 10000 });
  const wall = Date.now() - t0;
  const perf = await p.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const res = performance.getEntriesByType('resource').filter((r) => !new URL(r.name).pathname.startsWith('/api/'));
    const sum = (f) => res.reduce((a, r) => a + (r[f] || 0), 0);
    return {
      interactive_ms: Math.round(performance.now()),
      dom_content_loaded_ms: Math.round(nav.domContentLoadedEventEnd),
      files: 1 + res.length,
      bytes_transferred: nav.transferSize + sum('transferSize'),
      bytes_decoded: nav.decodedBodySize + sum('decodedBodySize'),
      scroll_width: document.documentElement.scrollWidth,
    };
  });
  assert.ok(perf.scroll_width <= 360, `the sign-in page overflows at 360 px: ${perf.scroll_width}`);
  // keyboard: focus starts in Username; Tab reaches Password and the button; Enter submits
  assert.equal(await p.evaluate(() => document.activeElement?.id), 'username');
  await p.keyboard.type(ADMIN.username);
  await p.keyboard.press('Tab');
  assert.equal(await p.evaluate(() => document.activeElement?.id), 'password');
  await p.keyboard.type(ADMIN.password);
  await p.keyboard.press('Tab');
  assert.equal(await p.evaluate(() => document.activeElement?.textContent), 'Sign in');
  await p.keyboard.press('Enter');
  await p.waitForURL(/#\/dashboard$/, { timeout: 10000 });
  await p.screenshot({ path: path.join(ARTIFACTS, 'shell-phone-signed-in.png'), fullPage: true });
  const nav = await p.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(nav <= 360, `the signed-in shell overflows at 360 px: ${nav}`);
  await phone.close();
  const figures = { ...perf, interactive_wall_ms: wall };
  writeFileSync(path.join(ARTIFACTS, 'signin-perf.json'), `${JSON.stringify(figures, null, 2)}\n`);
  console.log(`sign-in page figures: ${JSON.stringify(figures)}`);
  assert.ok(perf.interactive_ms < 3000, `time to interactive ${perf.interactive_ms} ms`);
  assert.ok(perf.bytes_decoded < 300 * 1024, `page weight ${perf.bytes_decoded} bytes`);
});
