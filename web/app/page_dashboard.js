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

function executorsTable(executors) {
  if (!Array.isArray(executors) || !executors.length) {
    return h('p', { class: 'muted' }, 'No executor reported.');
  }
  const yesNo = (v) => (v === undefined || v === null ? '—' : v ? 'busy' : 'idle');
  return h('div', { class: 'table-wrap' }, h('table', {},
    h('caption', { class: 'sr-only' }, 'Executor pool'),
    h('thead', {}, h('tr', {}, ['Executor', 'Host', 'State', 'Credit', 'Calls served', 'Restarts']
      .map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, executors.map((x) => h('tr', {},
      h('td', {}, String(x.id ?? '')), h('td', {}, String(x.host ?? '—')),
      h('td', {}, yesNo(x.busy)), h('td', {}, String(x.credit ?? '—')),
      h('td', {}, String(x.calls ?? '—')), h('td', {}, String(x.restarts ?? '—')))))));
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
        h('h2', { id: 'h-exec' }, 'Executor pool'), executorsTable(d.executors)));
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
  const poll = setInterval(() => load().catch(() => {}), 15000);
  return () => { unsub(); clearInterval(poll); clearTimeout(timer); };
}
