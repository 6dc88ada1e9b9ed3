// chart.js — the dashboard's bar charts, drawn by uPlot (vendored:
// web/vendor/uplot). A chart is made once and fed new points with update();
// destroy() removes it and uPlot's window listeners. The canvas has no text
// for screen readers, so the figure carries a one-line summary (latest,
// peak, average) as its caption and as the plot's accessible name. Colours
// come from the stylesheet's custom properties, read again when the colour
// scheme changes (the canvas does not follow CSS by itself).
import uPlot from '../vendor/uplot/uPlot.min.js';
import { h } from './dom.js';

const HEIGHT = 160;
const round = (v) => String(Math.round(v * 10) / 10);
const dark = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : null;

function colour(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

/**
 * barChart({title, format, max, tone}) → {el, update(points), destroy()}
 * points: [{x: unix seconds, label, value}], oldest first.
 */
export function barChart({ title, format = round, max = 0, tone = '--accent' }) {
  const caption = h('span', { class: 'muted' }, ' — no data');
  const box = h('div', { class: 'chart', role: 'img', 'aria-label': `${title}: no data` });
  const el = h('figure', { class: 'chart-figure' }, h('figcaption', {}, title, caption), box);
  let data = [[], []];
  let plot = null;

  function make(width) {
    const line = colour(tone);
    const muted = colour('--muted');
    const grid = colour('--border');
    const axis = { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    plot = new uPlot({
      width, height: HEIGHT,
      scales: { x: { time: true }, y: { range: (u, lo, hi) => [0, Math.max(max, hi ?? 0, 1)] } },
      axes: [axis, { ...axis, size: 56, values: (u, ticks) => ticks.map((v) => format(v)) }],
      series: [
        { value: (u, v) => (v == null ? '—' : new Date(v * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })) },
        { label: title, stroke: line, fill: line, width: 1, points: { show: false },
          paths: uPlot.paths.bars({ size: [0.8, 24] }),
          value: (u, v) => (v == null ? '—' : format(v)) },
      ],
    }, data, box);
  }

  function fit() {
    const width = Math.floor(box.clientWidth);
    if (width <= 0) return;
    if (!plot) make(width);
    else if (plot.width !== width) plot.setSize({ width, height: HEIGHT });
  }

  const observer = typeof ResizeObserver === 'function' ? new ResizeObserver(fit) : null;
  observer?.observe(box);
  const rescheme = () => { plot?.destroy(); plot = null; fit(); };
  dark?.addEventListener('change', rescheme);

  return {
    el,
    update(points) {
      const list = Array.isArray(points) ? points : [];
      const values = list.map((p) => (Number.isFinite(p.value) ? p.value : 0));
      data = [list.map((p) => p.x), values];
      const text = summary(values, format);
      caption.textContent = ` — ${text}`;
      box.setAttribute('aria-label', `${title}: ${text}`);
      if (plot) plot.setData(data);
      else fit();
    },
    destroy() {
      observer?.disconnect();
      dark?.removeEventListener('change', rescheme);
      plot?.destroy();
      plot = null;
    },
  };
}

function summary(values, format) {
  if (!values.length) return 'no data';
  const peak = Math.max(...values);
  const total = values.reduce((a, b) => a + b, 0);
  return `latest ${format(values[values.length - 1])}, peak ${format(peak)}, `
    + `average ${format(total / values.length)}`;
}
