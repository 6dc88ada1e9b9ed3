// activity_view.js — one activity record as a list item, and a live list
// (role="log") that keeps the newest entries first, bounded.
import { h, pill, when, jsonText } from './dom.js';

const LEVELS = ['debug', 'info', 'warning', 'error'];

/** A record's time in ms (created_at: ISO text or unix ms), 0 when unknown. */
function stamp(a) {
  const v = a && a.created_at;
  const t = typeof v === 'number' ? v : Date.parse(v);
  return Number.isFinite(t) ? t : 0;
}

export function activityItem(a) {
  const level = LEVELS.includes(a.level) ? a.level : 'info';
  const details = a.details && (typeof a.details !== 'object' || Object.keys(a.details).length)
    ? h('details', { class: 'activity-details' }, h('summary', {}, 'Details'),
        h('pre', { class: 'json' }, jsonText(a.details)))
    : null;
  return h('li', { class: ['activity', `level-${level}`], 'data-type': String(a.type ?? '') },
    h('time', { datetime: String(a.created_at ?? '') }, when(a.created_at)),
    ' ', pill(level), ' ',
    h('code', { class: 'activity-type' }, String(a.type ?? '')), ' ',
    h('span', { class: 'activity-message' }, String(a.message ?? '')),
    a.source ? h('span', { class: 'muted activity-source' }, ` · ${a.source}`) : null,
    details);
}

/**
 * A bounded live list. add(record) prepends; seed(records) replaces.
 * label names the log for assistive technology.
 */
export function activityLog({ label, max = 200, filter = () => true }) {
  const list = h('ul', { class: 'activity-log', role: 'log', 'aria-label': label, 'aria-live': 'polite' });
  const empty = h('p', { class: 'muted' }, 'No activity yet.');
  const seen = new Set();
  const records = [];
  const el = h('div', { class: 'activity-wrap' }, empty, list);
  let pred = filter;

  function redraw() {
    list.replaceChildren(...records.filter(pred).map(activityItem));
    empty.hidden = list.childElementCount > 0;
  }
  return {
    el,
    seed(items) {
      records.length = 0; seen.clear();
      for (const a of items) { if (a && !seen.has(String(a.id))) { seen.add(String(a.id)); records.push(a); } }
      records.splice(max);
      redraw();
    },
    add(a) {
      if (!a || typeof a !== 'object') return;
      if (a.id !== undefined && seen.has(String(a.id))) return;
      if (a.id !== undefined) seen.add(String(a.id));
      records.unshift(a);
      if (records.length > max) records.pop();
      if (pred(a)) {
        list.prepend(activityItem(a));
        while (list.childElementCount > max) list.lastElementChild.remove();
      }
      empty.hidden = list.childElementCount > 0;
    },
    setFilter(fn) { pred = fn; redraw(); },
    /** Newer records from a history page (newest first), e.g. when polling without the stream. */
    merge(items) {
      const newest = records.reduce((m, r) => Math.max(m, stamp(r)), 0);
      for (const a of [...items].reverse()) if (a && stamp(a) >= newest) this.add(a);
    },
    note(text) {
      list.prepend(h('li', { class: 'activity level-warning' }, text));
    },
  };
}
