// page_activity.js — the live activity stream, filterable by server, type
// and level (sent to /ws as a filter and applied to the history fetched
// from /api/activity) and by text (in the page).
import { h, replace } from './dom.js';
import { api, withQuery } from './api.js';
import { live } from './live.js';
import { activityLog } from './activity_view.js';

const TYPES = [['', 'All types'], ['tool.', 'Tools'], ['approval.', 'Approvals'], ['server.', 'Servers'],
  ['secret.', 'Secrets'], ['auth.', 'Sign-ins'], ['executor.', 'Executors'], ['module.', 'Modules'],
  ['network.', 'Network'], ['admin.', 'Admin']];
const LEVELS = [['', 'Any level'], ['info', 'Info and above'], ['warning', 'Warnings and errors'], ['error', 'Errors']];
const RANK = { debug: 0, info: 1, warning: 2, error: 3 };

function select(id, label, options) {
  return [h('label', { for: id }, label),
    h('select', { id }, options.map(([v, t]) => h('option', { value: v }, t)))];
}

export async function render(main) {
  const log = activityLog({ label: 'Activity', max: 500 });
  const [serverLabel, serverSel] = select('f-server', 'Server', [['', 'All servers']]);
  const [typeLabel, typeSel] = select('f-type', 'Type', TYPES);
  const [levelLabel, levelSel] = select('f-level', 'Level', LEVELS);
  const text = h('input', { id: 'f-text', type: 'search', maxlength: '200' });
  const stats = h('p', { class: 'muted', 'aria-live': 'polite' });
  const filters = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter activity' },
    h('div', { class: 'field' }, serverLabel, serverSel),
    h('div', { class: 'field' }, typeLabel, typeSel),
    h('div', { class: 'field' }, levelLabel, levelSel),
    h('div', { class: 'field' }, h('label', { for: 'f-text' }, 'Contains'), text));
  filters.addEventListener('submit', (ev) => ev.preventDefault());
  replace(main, h('h1', {}, 'Activity'), filters, stats, log.el);

  try {
    const r = await api.get('/api/servers?limit=100');
    for (const sv of r.servers || []) serverSel.appendChild(h('option', { value: String(sv.id) }, String(sv.name ?? sv.id)));
  } catch { /* the filter stays at all servers */ }

  const current = () => ({ server_id: serverSel.value || null, type: typeSel.value || null,
                           level: levelSel.value || null, text: text.value.trim().toLowerCase() });
  function predicate(f) {
    return (a) => (!f.server_id || a.server_id === f.server_id)
      && (!f.type || String(a.type ?? '').startsWith(f.type))
      && (!f.level || (RANK[a.level] ?? 1) >= RANK[f.level])
      && (!f.text || `${a.type} ${a.message} ${a.source}`.toLowerCase().includes(f.text));
  }
  // live events that arrive while a history fetch is on its way: the history
  // (seed) replaces the list, so they are added again after it (add skips
  // what the history already had)
  let pending = null;
  async function apply() {
    const f = current();
    live.setFilter({ server_id: f.server_id, types: f.type ? [f.type] : null, level: f.level });
    log.setFilter(predicate(f));
    const mine = pending = [];
    try {
      const r = await api.get(withQuery('/api/activity', { limit: 100, server_id: f.server_id,
                                                           type: f.type, level: f.level }));
      if (pending !== mine) return;           // a newer filter's fetch took over
      log.seed(Array.isArray(r.activity) ? r.activity : []);
      for (const a of mine) log.add(a);
    } catch (e) { stats.textContent = `History unavailable: ${e.message}`; }
    finally { if (pending === mine) pending = null; }
  }
  for (const el of [serverSel, typeSel, levelSel]) el.addEventListener('change', apply);
  text.addEventListener('input', () => log.setFilter(predicate(current())));

  // subscribed before the first fetch, so that nothing said during it is lost
  const unsub = live.subscribe((m) => {
    if (m.type === 'log') { pending?.push(m.data); log.add(m.data); }
    if (m.type === 'dropped') log.note(`${m.count} live events were dropped (the browser was slow).`);
  });
  try {
    await apply();
  } catch (e) {
    unsub();
    throw e;
  }
  const unstate = live.onState((st) => {
    stats.textContent = st === 'open' ? 'Streaming live.' : 'Live stream unavailable: refreshing every 3 s.';
  });
  // without the stream (a proxy that drops websockets…), poll the history instead
  const poll = setInterval(async () => {
    if (live.state === 'open') return;
    const f = current();
    try {
      const r = await api.get(withQuery('/api/activity', { limit: 50, server_id: f.server_id, type: f.type, level: f.level }));
      log.merge(Array.isArray(r.activity) ? r.activity : []);
    } catch { /* next tick */ }
  }, 3000);
  return () => { unsub(); unstate(); clearInterval(poll); live.setFilter(null); };
}
