// main.js — the dashboard's entry: session check, the shell (skip link,
// navigation, sign out, live indicator), and hash routing to the pages.
// Each page is render(container, params) → optional cleanup function.
import { h, replace } from './dom.js';
import { api, request, setCsrf, onUnauthorized } from './api.js';
import { live } from './live.js';
import * as auth from './page_auth.js';
import * as dashboard from './page_dashboard.js';
import * as servers from './page_servers.js';
import * as tool from './page_tool.js';
import * as approvals from './page_approvals.js';
import * as activity from './page_activity.js';
import * as settings from './page_settings.js';

const ROUTES = [
  { re: /^\/dashboard$/, page: dashboard.render, nav: 'Dashboard', title: 'Dashboard' },
  { re: /^\/servers$/, page: servers.renderList, nav: 'Servers', title: 'Servers' },
  { re: /^\/servers\/([^/]+)$/, page: servers.renderServer, nav: 'Servers', title: 'Server' },
  { re: /^\/tools\/([^/]+)$/, page: tool.render, nav: 'Servers', title: 'Tool' },
  { re: /^\/approvals$/, page: approvals.render, nav: 'Approvals', title: 'Approvals' },
  { re: /^\/activity$/, page: activity.render, nav: 'Activity', title: 'Activity' },
  { re: /^\/settings$/, page: settings.render, nav: 'Settings', title: 'Settings' },
];
const NAV = ['Dashboard', 'Servers', 'Approvals', 'Activity', 'Settings'];

const state = { user: null, setupRequired: false };
let cleanup = null;
const main = document.getElementById('main');
const nav = document.getElementById('nav');
const status = document.getElementById('status');

function path() {
  const raw = location.hash.replace(/^#/, '') || '/dashboard';
  return raw.split('?')[0];
}

function go(to) {
  if (location.hash !== `#${to}`) location.hash = `#${to}`; else route();
}

let navUnsub = null;
function renderNav(active) {
  if (navUnsub) { navUnsub(); navUnsub = null; }
  if (!state.user) { replace(nav); return; }
  const links = NAV.map((name) => h('li', {},
    h('a', { href: `#/${name.toLowerCase()}`, 'aria-current': name === active ? 'page' : null }, name)));
  const liveDot = h('span', { class: 'live-dot', role: 'status', 'aria-live': 'polite' });
  navUnsub = live.onState((st) => {
    liveDot.className = `live-dot live-${st}`;
    liveDot.textContent = st === 'open' ? 'Live' : st === 'connecting' ? 'Connecting…' : 'Offline';
  });
  replace(nav,
    h('ul', { class: 'nav-links' }, links),
    h('div', { class: 'nav-user' }, liveDot,
      h('span', { class: 'muted user-name' }, state.user.username || ''),
      h('button', { type: 'button', class: 'link-button', onclick: signOut }, 'Sign out')));
}

async function signOut() {
  try { await request('POST', '/api/auth/logout', {}, { auth: false }); } catch { /* gone already */ }
  setCsrf('');
  state.user = null;
  live.stop();
  go('/login');
}

/** Page-level status line (errors and confirmations), announced politely. */
export function notify(message, kind = 'info') {
  replace(status, message ? h('p', { class: `notice notice-${kind}` }, message) : null);
  if (message && kind !== 'error') setTimeout(() => { if (status.textContent === message) replace(status); }, 5000);
}

async function loadSession() {
  try {
    const st = await request('GET', '/api/auth/status', undefined, { auth: false });
    state.setupRequired = !!st.setup_required;
  } catch { state.setupRequired = false; }
  if (state.setupRequired) { state.user = null; return; }
  try {
    const me = await api.get('/api/auth/me');
    state.user = me.user || { username: '' };
  } catch { state.user = null; }
}

let routeSeq = 0;
async function route() {
  const seq = ++routeSeq;
  if (cleanup) { try { cleanup(); } catch (e) { console.error(e); } cleanup = null; }
  notify('');
  const p = path();
  if (state.setupRequired && p !== '/setup') { go('/setup'); return; }
  if (p === '/setup' || p === '/login') {
    if (state.user && !state.setupRequired) { go('/dashboard'); return; }
    renderNav(null);
    document.title = p === '/setup' ? 'Set up — MCPbox' : 'Sign in — MCPbox';
    const render = p === '/setup' ? auth.renderSetup : auth.renderLogin;
    cleanup = render(main, {
      onSetup: async () => { state.setupRequired = false; go('/login'); },
      onLogin: async (user, csrfToken) => {
        setCsrf(csrfToken);
        state.user = user || { username: '' };
        live.start();
        go('/dashboard');
      },
    }) || null;
    lastPath = p;   // the form focuses its first field
    return;
  }
  if (!state.user) { go('/login'); return; }
  const match = ROUTES.map((r) => ({ r, m: p.match(r.re) })).find((x) => x.m);
  if (!match) { go('/dashboard'); return; }
  renderNav(match.r.nav);
  document.title = `${match.r.title} — MCPbox`;
  replace(main, h('p', { class: 'muted' }, 'Loading…'));
  try {
    const params = match.m.slice(1).map((x) => decodeURIComponent(x));
    const done = (await match.r.page(main, params, { notify, go, user: state.user })) || null;
    if (seq !== routeSeq) { if (done) done(); return; }   // the user moved on meanwhile
    cleanup = done;
  } catch (e) {
    if (seq !== routeSeq) return;
    replace(main, h('h1', { tabindex: '-1' }, match.r.title),
      h('p', { class: 'notice notice-error', role: 'alert' }, `Could not load this page: ${e.message}`));
  }
  focusHeading();
}

let lastPath = null;
function focusHeading() {
  const p = path();
  if (p === lastPath) return;   // a re-render of the same page keeps the focus where it is
  lastPath = p;
  const h1 = main.querySelector('h1');
  if (h1) { h1.setAttribute('tabindex', '-1'); h1.focus({ preventScroll: true }); }
}

onUnauthorized(() => {
  if (!state.user) return;
  state.user = null;
  live.stop();
  go('/login');
});

window.addEventListener('hashchange', route);
(async () => {
  await loadSession();
  if (state.user) live.start();
  await route();
  document.body.dataset.ready = 'true';
})();
