// diff.js — a unified diff (the API's text) shown line by line: additions,
// removals, hunk headers and context each get a class and a screen-reader
// prefix; every line is text. When the API gives no unified text, a small
// LCS line diff of the two versions is computed here (bounded size).
import { h } from './dom.js';

const MAX_LINES = 4000;

/** Lines of a unified diff: [{kind: add|del|hunk|meta|ctx, text}] */
export function parseUnified(text) {
  return String(text ?? '').split('\n').slice(0, MAX_LINES).map((line) => {
    if (line.startsWith('+++') || line.startsWith('---')) return { kind: 'meta', text: line };
    if (line.startsWith('@@')) return { kind: 'hunk', text: line };
    if (line.startsWith('+')) return { kind: 'add', text: line };
    if (line.startsWith('-')) return { kind: 'del', text: line };
    return { kind: 'ctx', text: line };
  });
}

/** Unified-style lines from two texts (LCS on lines; falls back to all-del/all-add if huge). */
export function diffLines(a, b) {
  const x = String(a ?? '').split('\n');
  const y = String(b ?? '').split('\n');
  if (x.length * y.length > 4e6) {
    return [...x.map((t) => ({ kind: 'del', text: `-${t}` })), ...y.map((t) => ({ kind: 'add', text: `+${t}` }))];
  }
  const n = x.length; const m = y.length;
  const dp = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      dp[i][j] = x[i] === y[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
    }
  }
  const out = [];
  let i = 0; let j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) { out.push({ kind: 'ctx', text: ` ${x[i]}` }); i++; j++; }
    else if (dp[i + 1][j] >= dp[i][j + 1]) { out.push({ kind: 'del', text: `-${x[i++]}` }); }
    else { out.push({ kind: 'add', text: `+${y[j++]}` }); }
  }
  while (i < n) out.push({ kind: 'del', text: `-${x[i++]}` });
  while (j < m) out.push({ kind: 'add', text: `+${y[j++]}` });
  return out;
}

const SR = { add: 'added: ', del: 'removed: ' };

/** <pre> of diff lines. */
export function diffBlock(lines, label = 'Diff') {
  const pre = h('pre', { class: 'diff', tabindex: '0', 'aria-label': label });
  if (!lines.length || lines.every((l) => l.kind === 'ctx' || l.kind === 'meta')) {
    pre.appendChild(h('span', { class: 'diff-none' }, 'No changes.'));
    return pre;
  }
  for (const line of lines) {
    pre.appendChild(h('span', { class: `diff-line diff-${line.kind}` },
      SR[line.kind] ? h('span', { class: 'sr-only' }, SR[line.kind]) : null, line.text));
  }
  return pre;
}
