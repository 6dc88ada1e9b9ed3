// chart.js — small SVG charts drawn here (no library): bars per minute with
// a text summary for screen readers. Colours come from CSS classes.
import { h, s } from './dom.js';

const W = 600;
const H = 140;
const PAD = 24;

/**
 * barChart({title, points:[{label, value}], format, max}) → <figure>
 * The figure has the title as caption and a one-line summary (latest, peak).
 */
const round = (v) => String(Math.round(v * 10) / 10);

export function barChart({ title, points, format = round, max, cls = 'bar' }) {
  const values = points.map((p) => (Number.isFinite(p.value) ? p.value : 0));
  const top = Math.max(max ?? 0, ...values, 1);
  const n = Math.max(points.length, 1);
  const bw = (W - PAD * 2) / n;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img',
                         'aria-label': `${title}: ${summary(points, format)}`, preserveAspectRatio: 'none' });
  svg.appendChild(s('line', { x1: PAD, y1: H - PAD, x2: W - PAD, y2: H - PAD, class: 'axis' }));
  svg.appendChild(s('text', { x: 2, y: 12, class: 'chart-label' }, format(top)));
  svg.appendChild(s('text', { x: 2, y: H - PAD, class: 'chart-label' }, format(0)));
  points.forEach((p, i) => {
    const v = values[i];
    const bh = ((H - PAD * 2) * v) / top;
    const rect = s('rect', { x: PAD + i * bw + 1, y: H - PAD - bh, width: Math.max(bw - 2, 1),
                             height: Math.max(bh, 0), class: cls });
    rect.appendChild(s('title', {}, `${p.label}: ${format(v)}`));
    svg.appendChild(rect);
  });
  if (points.length) {
    svg.appendChild(s('text', { x: PAD, y: H - 6, class: 'chart-label' }, points[0].label));
    svg.appendChild(s('text', { x: W - PAD, y: H - 6, class: 'chart-label', 'text-anchor': 'end' },
                      points[points.length - 1].label));
  }
  return h('figure', { class: 'chart-figure' },
    h('figcaption', {}, title, h('span', { class: 'muted' }, ` — ${summary(points, format)}`)), svg);
}

function summary(points, format) {
  if (!points.length) return 'no data';
  const values = points.map((p) => (Number.isFinite(p.value) ? p.value : 0));
  const peak = Math.max(...values);
  const total = values.reduce((a, b) => a + b, 0);
  return `latest ${format(values[values.length - 1])}, peak ${format(peak)}, `
    + `average ${format(total / values.length)}`;
}
