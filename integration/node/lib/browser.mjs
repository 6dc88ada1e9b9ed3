// Browser helpers for the dashboard tests: Debian's chromium driven headless
// by playwright-core, pages instrumented so that a test can tell whether any
// script ran that should not have (dialogs, page errors, CSP violations, a
// sentinel global that the XSS probes try to set).
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ARTIFACTS = path.resolve(here, '..', '..', 'artifacts');
export const CHROMIUM = process.env.MCPBOX_CHROMIUM || '/usr/bin/chromium';

export async function launch() {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // --no-sandbox: CI runs as root, where chromium's own sandbox refuses to start
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

/**
 * A page that records what must never happen: dialogs (alert/confirm/prompt),
 * uncaught errors, CSP violations, and writes to window.__xss.
 */
export async function instrumentedPage(context) {
  const page = await context.newPage();
  const events = { dialogs: [], errors: [], console: [] };
  page.on('dialog', (d) => { events.dialogs.push(`${d.type()}: ${d.message()}`); d.dismiss().catch(() => {}); });
  page.on('pageerror', (e) => events.errors.push(String(e?.message ?? e)));
  page.on('console', (m) => { if (m.type() === 'error') events.console.push(m.text()); });
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample || ''}`);
    });
    Object.defineProperty(window, '__xss', {
      configurable: false,
      set(v) { window.__xssHits = (window.__xssHits || 0) + 1; },
      get() { return undefined; },
    });
  });
  return { page, events };
}

export async function shot(page, name) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}
