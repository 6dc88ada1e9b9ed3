// web_bench.mjs — the dashboard's page weight and time to interactive, in a
// real browser (Debian's chromium, headless, driven by playwright-core)
// against a real `mcpbox up` (the build in MCPBOX_BUILD_DIR, default
// build-test): each round opens the signed-in dashboard in a fresh browser
// context (cold cache), then reloads it (warm cache), and records
//   files, decoded bytes, transferred bytes (headers included), API requests
//   DOMContentLoaded and load (navigation timing)
//   ready: the dashboard drawn with its data (the app sets body[data-ready])
//   first control: the Servers link clicked as soon as it exists, until the
//     Servers page's heading is shown (the app's router handled it)
// and prints the medians (and every sample with --json).
//
//   cd integration/node && npm ci            # playwright-core, once
//   node ../../bench/web_bench.mjs [--rounds N] [--json] [--web-dir DIR]
import { startUp } from '../integration/node/lib/mcpbox.mjs';
import { launch } from '../integration/node/lib/browser.mjs';

const args = process.argv.slice(2);
const rounds = Number(args[args.indexOf('--rounds') + 1]) || (args.includes('--rounds') ? 0 : 7);
const json = args.includes('--json');
// --web-dir DIR: serve another copy of web/ (to compare two versions of the dashboard)
const webDir = args.includes('--web-dir') ? args[args.indexOf('--web-dir') + 1] : null;
const ADMIN = { username: 'benchadmin', password: 'web-bench-password-1' };

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : null;
};

async function measure(page, base, reload) {
  if (reload) await page.reload();
  else await page.goto(`${base}/#/dashboard`);
  // the first control: as soon as the Servers link is there, use it
  const link = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Servers', exact: true });
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 20000 });
  const ready = await page.evaluate(() => performance.now());
  const perf = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const res = performance.getEntriesByType('resource');
    const isApi = (r) => new URL(r.name).pathname.startsWith('/api/');
    const sum = (list, f) => list.reduce((a, r) => a + (r[f] || 0), 0);
    const files = res.filter((r) => !isApi(r));
    return {
      files: 1 + files.length,
      file_bytes: nav.decodedBodySize + sum(files, 'decodedBodySize'),
      api_requests: res.filter(isApi).length,
      api_bytes: sum(res.filter(isApi), 'decodedBodySize'),
      transferred_bytes: nav.transferSize + sum(res, 'transferSize'),
      dom_content_loaded_ms: nav.domContentLoadedEventEnd,
      load_ms: nav.loadEventEnd,
    };
  });
  await link.click();
  await page.getByRole('heading', { level: 1, name: 'Servers' }).waitFor({ timeout: 20000 });
  const control = await page.evaluate(() => performance.now());
  return { ...perf, ready_ms: ready, first_control_ms: control };
}

const up = await startUp({ conf: webDir ? `web_dir = ${webDir}\n` : '' });
const base = `http://127.0.0.1:${up.port}`;
const browser = await launch();
const samples = { cold: [], warm: [] };
try {
  const setup = await fetch(`${base}/api/auth/setup`, { method: 'POST', headers: { 'content-type': 'application/json' },
                                                       body: JSON.stringify(ADMIN) });
  if (setup.status !== 201) throw new Error(`setup: ${setup.status} ${await setup.text()}`);
  for (let i = 0; i < rounds; i += 1) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const login = await context.request.post(`${base}/api/auth/login`, { data: ADMIN });
    if (login.status() !== 200) throw new Error(`login: ${login.status()}`);
    const page = await context.newPage();
    samples.cold.push(await measure(page, base, false));
    await page.goto(`${base}/#/dashboard`);
    samples.warm.push(await measure(page, base, true));
    await context.close();
  }
} finally {
  await browser.close();
  await up.stop();
  up.cleanup();
}

const keys = ['files', 'file_bytes', 'transferred_bytes', 'api_requests', 'api_bytes',
  'dom_content_loaded_ms', 'load_ms', 'ready_ms', 'first_control_ms'];
const medians = Object.fromEntries(Object.entries(samples).map(([k, list]) =>
  [k, Object.fromEntries(keys.map((key) => [key, Math.round(median(list.map((s) => s[key])))]))]));
if (json) {
  console.log(JSON.stringify({ rounds, medians, samples }, null, 2));
} else {
  console.log(`dashboard, ${rounds} rounds, medians (loopback, chromium headless)`);
  console.log(`${'metric'.padEnd(22)}${'cold cache'.padStart(12)}${'warm cache'.padStart(12)}`);
  for (const key of keys) {
    console.log(`${key.padEnd(22)}${String(medians.cold[key]).padStart(12)}${String(medians.warm[key]).padStart(12)}`);
  }
}
