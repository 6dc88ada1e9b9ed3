// page_tool.js — one tool: status and notes, its code (highlighted), the
// diff against the approved version, its versions (view, compare, roll
// back), and its execution logs.
import { h, replace, pill, when, jsonText } from './dom.js';
import { api, seg, withQuery } from './api.js';
import { live } from './live.js';
import { codeBlock } from './highlight.js';
import { diffBlock, diffLines } from './diff.js';
import { decisionControls } from './decide.js';

/**
 * What the reviewer reads of a tool or a version: its Python code, or, for a tool
 * imported from an external MCP source (no code), the remote definition that
 * approval binds to: its description and input schema.
 */
export function reviewText(t) {
  if (!t) return '';
  if (t.python_code != null && t.tool_type !== 'mcp_passthrough') return String(t.python_code);
  const description = String(t.description ?? '').split('\n').map((l) => `#   ${l}`).join('\n');
  return `# Imported from an external MCP source (no code): its definition\n# description:\n${description}\n` +
    `# input schema:\n${JSON.stringify(t.input_schema ?? {}, null, 2)}\n`;
}

/** The diff of a tool against its approved version, as a block (or a note). */
export async function approvedDiff(toolId, currentCode) {
  try {
    const d = await api.get(`/api/tools/${seg(toolId)}/diff?from=approved&to=current`);
    const lines = diffLines(d.from ? reviewText(d.from) : '', d.to ? reviewText(d.to) : currentCode ?? '');
    return h('div', {}, h('p', { class: 'muted' },
      `Approved version ${d.from?.version ?? '?'} → current version ${d.to?.version ?? '?'}`),
      diffBlock(lines, 'Diff against the approved version'));
  } catch (e) {
    if (e.status === 404 || e.status === 409) {
      return h('p', { class: 'muted' }, 'No approved version yet: all of the code is new.');
    }
    return h('p', { class: 'notice notice-error' }, `Diff unavailable: ${e.message}`);
  }
}

function logsTable(logs) {
  if (!logs.length) return h('p', { class: 'muted' }, 'No executions yet.');
  return h('ul', { class: 'exec-logs', 'aria-label': 'Execution logs' }, logs.map((l) => h('li', { class: 'row' },
    h('time', { datetime: String(l.created_at ?? '') }, when(l.created_at)), ' ',
    pill(l.success ? 'ok' : 'failed'),
    l.is_test ? h('span', { class: 'pill' }, 'test') : null,
    h('span', { class: 'muted' }, ` ${l.duration_ms ?? '?'} ms`),
    l.executed_by ? h('span', { class: 'muted' }, ` · ${l.executed_by}`) : null,
    h('details', {}, h('summary', {}, 'Arguments, result, output'),
      h('h4', {}, 'Arguments'), h('pre', { class: 'json' }, jsonText(l.args ?? l.input_args ?? null)),
      l.error ? [h('h4', {}, 'Error'), h('pre', { class: 'json' }, jsonText(l.error))] : null,
      h('h4', {}, 'Result'), h('pre', { class: 'json' }, jsonText(l.result ?? null)),
      l.stdout ? [h('h4', {}, 'Output'), h('pre', { class: 'json' }, jsonText(l.stdout))] : null))));
}

export async function render(main, [id], { notify }) {
  const base = `/api/tools/${seg(id)}`;
  const head = h('div', {});
  const code = h('div', {});
  const diff = h('div', {});
  const versions = h('div', {});
  const logs = h('div', {});
  const viewer = h('div', { class: 'version-view' });
  replace(main, head,
    h('section', { class: 'panel', 'aria-labelledby': 'h-code' }, h('h2', { id: 'h-code' }, 'Code'), code),
    h('section', { class: 'panel', 'aria-labelledby': 'h-diff' },
      h('h2', { id: 'h-diff' }, 'Changes since the approved version'), diff),
    h('section', { class: 'panel', 'aria-labelledby': 'h-versions' },
      h('h2', { id: 'h-versions' }, 'Versions'), versions, viewer),
    h('section', { class: 'panel', 'aria-labelledby': 'h-logs' }, h('h2', { id: 'h-logs' }, 'Execution logs'), logs));

  async function loadTool() {
    const r = await api.get(base);
    const t = r.tool || {};
    const st = r.status || {};
    const status = st.approval_status ?? t.approval_status;
    const full = st.full_name ?? (t.server_name ? `${t.server_name}__${t.name}` : String(t.name ?? id));
    replace(head,
      h('p', { class: 'crumbs' }, h('a', { href: '#/servers' }, 'Servers'), ' / ',
        t.server_id ? h('a', { href: `#/servers/${encodeURIComponent(t.server_id)}` }, String(t.server_name ?? 'server')) : null),
      h('h1', {}, full, ' ', pill(status)),
      t.description ? h('p', {}, String(t.description)) : null,
      h('dl', { class: 'facts' },
        h('dt', {}, 'Current version'), h('dd', {}, String(t.current_version ?? '—')),
        h('dt', {}, 'Enabled'), h('dd', {}, t.enabled === false ? 'no' : 'yes'),
        t.removed_at ? [h('dt', {}, 'Removed at the source'), h('dd', {}, `${when(t.removed_at)}: the source no longer offers it; not listed or callable until it does again`)] : null,
        st.publish_notes ? [h('dt', {}, 'Publish notes'), h('dd', { class: 'notes' }, String(st.publish_notes))] : null,
        st.rejection_reason ? [h('dt', {}, 'Rejection reason'), h('dd', { class: 'notes' }, String(st.rejection_reason))] : null,
        st.reviewed_by ? [h('dt', {}, 'Reviewed by'), h('dd', {}, String(st.reviewed_by))] : null),
      status === 'pending_review'
        ? decisionControls({ kind: 'tools', id, label: full, notify, onDone: () => refresh() }) : null);
    replace(code, codeBlock(reviewText(t), `Code of ${full}`));
    replace(diff, await approvedDiff(id, reviewText(t)));
    return t;
  }

  async function loadVersions() {
    const r = await api.get(`${base}/versions`);
    const list = Array.isArray(r.versions) ? r.versions : [];
    replace(versions, list.length ? h('ul', { class: 'plain-list', 'aria-label': 'Versions' }, list.map((v) => {
      const n = v.version ?? v.version_number;
      return h('li', { class: 'row' },
        h('strong', {}, `Version ${n}`), ' ',
        v.created_at ? h('span', { class: 'muted' }, when(v.created_at)) : null,
        v.change_summary ? h('span', { class: 'muted' }, ` — ${v.change_summary}`) : null,
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'small', 'aria-label': `Show version ${n}`, onclick: async () => {
            try {
              const one = await api.get(`${base}/versions/${seg(n)}`);
              replace(viewer, h('h3', {}, `Version ${n}`), codeBlock(reviewText(one.version), `Code of version ${n}`));
            } catch (e) { notify(e.message, 'error'); }
          } }, 'Show'),
          h('button', { type: 'button', class: 'small', 'aria-label': `Compare version ${n} with current`, onclick: async () => {
            try {
              const d = await api.get(`${base}/diff?from=${seg(n)}&to=current`);
              const lines = diffLines(reviewText(d.from), reviewText(d.to));
              replace(viewer, h('h3', {}, `Version ${n} → current`), diffBlock(lines, `Diff of version ${n} to current`));
            } catch (e) { notify(e.message, 'error'); }
          } }, 'Compare'),
          h('button', { type: 'button', class: 'small', 'aria-label': `Roll back to version ${n}`, onclick: async () => {
            try { await api.post(`${base}/rollback`, { version: Number(n) }); notify(`Rolled back to version ${n}.`); await refresh(); }
            catch (e) { notify(e.message, 'error'); }
          } }, 'Roll back')));
    })) : h('p', { class: 'muted' }, 'No versions.'));
  }

  async function loadLogs() {
    const r = await api.get(withQuery('/api/logs', { tool_id: id, limit: 25 }));
    replace(logs, logsTable(Array.isArray(r.logs) ? r.logs : []));
  }

  const part = (fn, el) => fn().catch((e) => replace(el, h('p', { class: 'notice notice-error' }, e.message)));
  async function refresh() {
    await Promise.all([loadTool(), part(loadVersions, versions), part(loadLogs, logs)]);
  }
  await refresh();
  let timer = null;
  const unsub = live.subscribe((m) => {
    if (m.type !== 'log') return;
    const t = m.data?.type ?? '';
    const d = m.data?.details;
    const mine = d && typeof d === 'object' && (d.tool_id === id || d.id === id);
    if (!mine && !/^approval\./.test(t)) return;
    if (timer) return;
    timer = setTimeout(() => { timer = null; refresh().catch(() => {}); }, 300);
  });
  return () => { unsub(); clearTimeout(timer); };
}
