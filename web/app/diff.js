// diff.js — the changes between two versions of a tool's code, shown line by
// line: hunk headers, context, additions and removals each get a class and a
// screen-reader prefix; every line is text. The diff is jsdiff's
// (vendored: web/vendor/diff, structuredPatch: Myers' algorithm on lines,
// hunks with 3 lines of context), bounded in time so that two large,
// unrelated versions cannot stall the page: past the bound, the old version
// is shown removed and the new one added.
import { h } from './dom.js';
import { structuredPatch } from '../vendor/diff/patch/create.js';

const CONTEXT = 3;
const TIMEOUT_MS = 500;
const MAX_LINES = 20000;      // lines shown at most (the rest is summed up)

/** Diff lines of two texts: [{kind: hunk|ctx|add|del|meta, text}]. */
export function diffLines(a, b) {
  // both end with a newline, so a last line without one is not shown as changed
  const ended = (t) => (t === '' || t.endsWith('\n') ? t : `${t}\n`);
  const before = ended(String(a ?? ''));
  const after = ended(String(b ?? ''));
  if (before === after) return [];
  const patch = structuredPatch('', '', before, after, '', '',
                                { context: CONTEXT, timeout: TIMEOUT_MS });
  if (!patch) {       // over the time bound: everything removed, everything added
    return [{ kind: 'meta', text: 'The versions differ too much to compare line by line.' },
      ...before.split('\n').slice(0, -1).map((t) => ({ kind: 'del', text: `-${t}` })),
      ...after.split('\n').slice(0, -1).map((t) => ({ kind: 'add', text: `+${t}` }))];
  }
  const out = [];
  for (const hunk of patch.hunks) {
    out.push({ kind: 'hunk',
               text: `@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@` });
    for (const line of hunk.lines) {
      const kind = line[0] === '+' ? 'add' : line[0] === '-' ? 'del' : line[0] === '\\' ? 'meta' : 'ctx';
      out.push({ kind, text: line });
    }
  }
  return out;
}

const SR = { add: 'added: ', del: 'removed: ' };

/** <pre> of diff lines. */
export function diffBlock(lines, label = 'Diff') {
  const pre = h('pre', { class: 'diff', tabindex: '0', 'aria-label': label });
  if (!lines.some((l) => l.kind === 'add' || l.kind === 'del')) {
    pre.appendChild(h('span', { class: 'diff-none' }, 'No changes.'));
    return pre;
  }
  for (const line of lines.slice(0, MAX_LINES)) {
    pre.appendChild(h('span', { class: `diff-line diff-${line.kind}` },
      SR[line.kind] ? h('span', { class: 'sr-only' }, SR[line.kind]) : null, line.text));
  }
  if (lines.length > MAX_LINES) {
    pre.appendChild(h('span', { class: 'diff-line diff-meta' }, `… ${lines.length - MAX_LINES} more lines`));
  }
  return pre;
}
