// page_dashboard.js — counts, calls per minute and error rate over the last
// hour, the executor pool, and live activity (seeded from /api/activity,
// then fed by /ws).
import { h, replace } from './dom.js';
import { api, withQuery } from './api.js';
import { live } from './live.js';
import { barChart } from './chart.js';
import { activityLog } from './activity_view.js';

function card(label, value, href) {
  return h('a', { class: 'card', href },
    h('span', { class: 'card-value' }, String(value ?? '—')),
    h('span', { class: 'card-label' }, label));
}

// One row per executor the broker knows (GET /api/dashboard `executors`,
// from the broker's `workers` query): which process on which host, how busy,
// how much it has served, how often its supervisor restarted it.
const EXEC_COLUMNS = [
  ['Host', (x) => x.host],
  ['Busy / credit', (x) => (x.in_flight ?? '—') + ' / ' + (x.credit ?? '—')],
  ['Calls served', (x) => x.served],
  ['Restarts', (x) => x.restarts],
  ['PID', (x) => x.pid],
  ['Last heard', (x) => (x.idle_ms === undefined || x.idle_ms === null ? undefined
    : x.idle_ms < 1000 ? 'now' : `${duration(Number(x.idle_ms) / 1000)} ago`)],
  ['Up since', (x) => (x.registered_at ? timeLabel(x.registered_at) : undefined)],
  ['Labels', (x) => labelText(x.labels)],
  ['Version', (x) => x.version],
];

function duration(seconds) {
  if (!Number.isFinite(seconds)) return undefined;
  const s = Math.floor(seconds);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h`;
}

function timeLabel(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

const count = (n, noun) => `${n} ${noun}${n === 1 ? '' : 's'}`;

function labelText(labels) {
  if (!labels || typeof labels !== 'object') return undefined;
  const pairs = Object.entries(labels).filter(([, v]) => typeof v === 'string');
  return pairs.length ? pairs.map(([k, v]) => `${k}=${v}`).join(', ') : undefined;
}

/** The pool: a row per executor, its name as the row header. */
function executorsTable(executors, pool, unavailable, registered) {
  const list = Array.isArray(executors) ? executors.filter((x) => x && typeof x === 'object') : [];
  if (unavailable) return [h('p', { class: 'muted', role: 'status' }, 'The broker did not answer.')];
  if (!list.length) return [h('p', { class: 'muted', role: 'status' }, 'No executor is registered.')];
  const total = pool && typeof pool === 'object'
    ? h('p', { class: 'hint', id: 'pool-total' },
      `${count(pool.executors, 'executor')}, ${pool.in_flight} of ${count(pool.credit, 'slot')} busy, `
      + `${count(pool.served, 'call')} served, ${count(pool.restarts, 'restart')}`)
    : null;
  const more = Number(registered) > list.length
    ? h('p', { class: 'notice', role: 'status' }, `${Number(registered) - list.length} more executors are registered than the broker's answer could list.`)
    : null;
  const cols = EXEC_COLUMNS.filter(([, get]) => list.some((x) => get(x) !== undefined && get(x) !== null));
  // the wrapper scrolls sideways at phone width: focusable, so the keyboard can scroll it
  return [total, more, h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Executor pool table' }, h('table', { 'aria-describedby': total ? 'pool-total' : null },
    h('caption', { class: 'sr-only' }, 'Executor pool'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Executor'),
      cols.map(([t]) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, list.map((x) => h('tr', {},
      h('th', { scope: 'row' }, String(x.process ?? (x.id !== undefined ? `worker ${x.id}` : '—'))),
      cols.map(([, get]) => h('td', {}, String(get(x) ?? '—'))))))))];
}

export async function render(main) {
  const cards = h('div', { class: 'cards' });
  const pool = h('div', {});
  const callsChart = barChart({ title: 'Calls per minute' });
  const errorChart = barChart({ title: 'Error rate', tone: '--danger', max: 1,
                                format: (v) => `${Math.round(v * 100)}%` });
  const log = activityLog({ label: 'Live activity', max: 50 });
  replace(main,
    h('h1', {}, 'Dashboard'),
    h('div', { class: 'summary' },
      cards,
      h('section', { 'aria-labelledby': 'h-charts', class: 'charts' },
        h('h2', { id: 'h-charts' }, 'Last hour'), callsChart.el, errorChart.el),
      h('section', { 'aria-labelledby': 'h-exec', class: 'pool' },
        h('h2', { id: 'h-exec' }, 'Executor pool'), pool)),
    h('section', { 'aria-labelledby': 'h-live' },
      h('h2', { id: 'h-live' }, 'Live activity'),
      h('p', {}, h('a', { href: '#/activity' }, 'Open the full activity stream')),
      log.el));

  async function load() {
    const d = await api.get('/api/dashboard');
    const pending = d.pending || {};
    const calls = Array.isArray(d.calls) ? d.calls : [];
    replace(cards,
      card('Servers', d.servers, '#/servers'),
      card('Tools', d.tools, '#/servers'),
      card('Pending approvals', pending.total ?? ((pending.tools || 0) + (pending.modules || 0)
            + (pending.network || 0)), '#/approvals'));
    const minute = (c) => Date.parse(`${c.minute}:00Z`) / 1000;
    callsChart.update(calls.map((c) => ({ x: minute(c), value: Number(c.calls) || 0 })));
    errorChart.update(calls.map((c) => ({ x: minute(c),
                                          value: c.calls ? (Number(c.errors) || 0) / c.calls : 0 })));
    replace(pool, executorsTable(d.executors, d.pool, d.executors_unavailable, d.executors_registered));
  }
  const charts = () => { callsChart.destroy(); errorChart.destroy(); };

  try {
    await Promise.all([
      load(),
      api.get(withQuery('/api/activity', { limit: 30 }))
        .then((r) => log.seed(Array.isArray(r.activity) ? r.activity : []))
        .catch(() => log.seed([])),
    ]);
  } catch (e) {
    charts();
    throw e;
  }

  let timer = null;
  const reload = () => {      // at most one reload per second under a steady stream
    if (timer) return;
    timer = setTimeout(() => { timer = null; load().catch(() => {}); }, 1000);
  };
  const unsub = live.subscribe((msg) => {
    if (msg.type === 'log') { log.add(msg.data); reload(); }
    if (msg.type === 'dropped') log.note(`${msg.count} live events were dropped (the browser was slow).`);
  });
  let ticks = 0;
  const poll = setInterval(() => {
    ticks += 1;
    if (live.state !== 'open') {       // no stream: the activity list polls too
      api.get(withQuery('/api/activity', { limit: 30 }))
        .then((r) => log.merge(Array.isArray(r.activity) ? r.activity : [])).catch(() => {});
    }
    // the pool's figures move without activity too: every 6 s at least
    if (ticks % 2 === 0 || live.state !== 'open') load().catch(() => {});
  }, 3000);
  return () => { unsub(); clearInterval(poll); clearTimeout(timer); charts(); };
}
