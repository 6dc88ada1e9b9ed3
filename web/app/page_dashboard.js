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

function minuteLabel(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso ?? '') : d.toTimeString().slice(0, 5);
}

const EXEC_COLUMNS = [
  ['Executor', (x) => x.id ?? (x.pid !== undefined ? `pid ${x.pid}` : undefined)],
  ['Host', (x) => x.host],
  ['State', (x) => (x.busy === undefined || x.busy === null ? undefined : x.busy ? 'busy' : 'idle')],
  ['Credit', (x) => x.credit],
  ['Calls served', (x) => x.calls],
  ['Restarts', (x) => x.restarts],
  ['Version', (x) => x.version],
  ['Up for', (x) => (x.uptime_s !== undefined ? duration(Number(x.uptime_s))
    : x.uptime_ms !== undefined ? duration(Number(x.uptime_ms) / 1000) : undefined)],
];

function duration(seconds) {
  if (!Number.isFinite(seconds)) return undefined;
  const s = Math.floor(seconds);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h`;
}

/** The executors the API could tell about: only the columns some executor has a value for. */
function executorsTable(executors, note) {
  const list = Array.isArray(executors) ? executors.filter((x) => x && typeof x === 'object') : [];
  const noteEl = note ? h('p', { class: 'hint' }, String(note)) : null;
  if (!list.length) return [h('p', { class: 'muted' }, 'No executor answered.'), noteEl];
  const cols = EXEC_COLUMNS.filter(([, get]) => list.some((x) => get(x) !== undefined && get(x) !== null));
  return [h('div', { class: 'table-wrap' }, h('table', {},
    h('caption', { class: 'sr-only' }, 'Executor pool'),
    h('thead', {}, h('tr', {}, cols.map(([t]) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, list.map((x) => h('tr', {}, cols.map(([, get]) => h('td', {}, String(get(x) ?? '—')))))))),
  noteEl];
}

export async function render(main) {
  const summary = h('div', { class: 'summary' });
  const log = activityLog({ label: 'Live activity', max: 50 });
  replace(main,
    h('h1', {}, 'Dashboard'),
    summary,
    h('section', { 'aria-labelledby': 'h-live' },
      h('h2', { id: 'h-live' }, 'Live activity'),
      h('p', {}, h('a', { href: '#/activity' }, 'Open the full activity stream')),
      log.el));

  async function load() {
    const d = await api.get('/api/dashboard');
    const pending = d.pending || {};
    const calls = Array.isArray(d.calls) ? d.calls : [];
    replace(summary,
      h('div', { class: 'cards' },
        card('Servers', d.servers, '#/servers'),
        card('Tools', d.tools, '#/servers'),
        card('Pending approvals', pending.total ?? ((pending.tools || 0) + (pending.modules || 0)
              + (pending.network || 0)), '#/approvals')),
      h('section', { 'aria-labelledby': 'h-charts', class: 'charts' },
        h('h2', { id: 'h-charts' }, 'Last hour'),
        barChart({ title: 'Calls per minute',
                   points: calls.map((c) => ({ label: minuteLabel(c.minute), value: Number(c.calls) || 0 })) }),
        barChart({ title: 'Error rate', cls: 'bar bar-error', max: 1,
                   format: (v) => `${Math.round(v * 100)}%`,
                   points: calls.map((c) => ({ label: minuteLabel(c.minute),
                                               value: c.calls ? (Number(c.errors) || 0) / c.calls : 0 })) })),
      h('section', { 'aria-labelledby': 'h-exec' },
        h('h2', { id: 'h-exec' }, 'Executor pool'), executorsTable(d.executors, d.executors_note)));
  }

  await Promise.all([
    load(),
    api.get(withQuery('/api/activity', { limit: 30 }))
      .then((r) => log.seed(Array.isArray(r.activity) ? r.activity : []))
      .catch(() => log.seed([])),
  ]);

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
    if (ticks % 5 === 0 || live.state !== 'open') load().catch(() => {});
  }, 3000);
  return () => { unsub(); clearInterval(poll); clearTimeout(timer); };
}
