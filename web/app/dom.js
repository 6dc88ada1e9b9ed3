// dom.js — the only way the UI makes DOM: elements built with createElement,
// text set with textContent (never innerHTML), event handlers as functions,
// links restricted to in-app targets. Data from the server goes in as text.

/** A link target the UI may set: an in-app hash route or a same-origin path. */
export function safeHref(value) {
  const s = String(value ?? '');
  return /^#\/[\w\-./%~]*$/.test(s) || /^\/(?!\/)[\w\-./%~?=&]*$/.test(s) ? s : '#/';
}

function setAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key.startsWith('on')) {
      throw new Error(`dom: refusing a string handler for ${key}`);
    } else if (key === 'class') {
      el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    } else if (key === 'href') {
      el.setAttribute('href', safeHref(value));
    } else if (key === 'style' || key === 'srcdoc' || key === 'src') {
      throw new Error(`dom: ${key} is not set from data`);
    } else if (key === 'value' || key === 'checked' || key === 'disabled'
               || key === 'selected' || key === 'hidden') {
      el[key] = value;
      if (key !== 'value' && key !== 'checked') el.toggleAttribute(key, !!value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** h('button', {class: 'x', onclick: fn}, 'text', childNode, [more]) */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/** Replace every child of el. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A short text for a server timestamp (ISO or unix ms), in the browser's locale. */
export function when(value) {
  if (value === undefined || value === null || value === '') return '';
  const d = typeof value === 'number' ? new Date(value < 1e12 ? value * 1000 : value) : new Date(value);
  return Number.isNaN(d.getTime()) ? String(value) : d.toLocaleString();
}

/** A status pill: text plus a class from a fixed set (never from data). */
export function pill(text) {
  const t = String(text ?? '');
  const known = ['approved', 'running', 'pending_review', 'pending', 'rejected', 'draft', 'stopped',
                 'error', 'warning', 'info', 'ok', 'failed', 'revoked', 'debug',
                 'authorized', 'expired', 'needs_authorization'];
  return h('span', { class: ['pill', known.includes(t) ? `pill-${t}` : null] }, t || '—');
}

/** Pretty JSON text (shown in <pre> as text). */
export function jsonText(value) {
  if (typeof value === 'string') return value;
  try { return JSON.stringify(value, null, 2); } catch { return String(value); }
}
