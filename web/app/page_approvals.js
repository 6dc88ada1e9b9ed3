// page_approvals.js — the review queue: pending tools (full name, title,
// notes, output schema, the annotations the LLM suggested beside the ones
// the admin sets with Approve, code and the diff against the last approved
// version on demand, Approve / Reject), module and network requests with their justifications, bulk
// decisions on tools. Refetched when /ws reports a request or a decision,
// so new requests appear without a reload.
import { h, replace, when, jsonText } from './dom.js';
import { api, seg } from './api.js';
import { live } from './live.js';
import { codeBlock } from './highlight.js';
import { decisionControls } from './decide.js';
import { approvedDiff, reviewText } from './page_tool.js';

// MCP tool annotations: what the admin may set on approving a tool. Only
// these reach MCP clients; the LLM's suggestion is shown, never sent.
const HINTS = [
  ['readOnlyHint', 'Read-only (changes nothing)'],
  ['destructiveHint', 'Destructive (may delete or overwrite)'],
  ['idempotentHint', 'Idempotent (repeating has no further effect)'],
  ['openWorldHint', 'Open world (reaches outside systems)'],
];

const RELEVANT = /^(approval\.|tool\.(publish|update|delete|rollback)|module\.request|network\.request|admin\.add_)/;

export async function render(main, _params, { notify }) {
  const toolsEl = h('div', {});
  const modulesEl = h('div', {});
  const networkEl = h('div', {});
  const bulkEl = h('div', { class: 'bulk' });
  const selected = new Set();
  const openCode = new Set();        // tool ids whose code panel is open (kept across refetches)
  const chosen = new Map();          // tool id → {hint: 'yes'|'no'} the admin picked (kept across refetches)
  replace(main,
    h('h1', {}, 'Approvals'),
    h('section', { class: 'panel', 'aria-labelledby': 'h-pt' }, h('h2', { id: 'h-pt' }, 'Tools'), bulkEl, toolsEl),
    h('section', { class: 'panel', 'aria-labelledby': 'h-pm' }, h('h2', { id: 'h-pm' }, 'Module requests'), modulesEl),
    h('section', { class: 'panel', 'aria-labelledby': 'h-pn' }, h('h2', { id: 'h-pn' }, 'Network requests'), networkEl));

  function renderBulk(tools) {
    const ids = tools.map((t) => t.tool_id).filter((x) => selected.has(x));
    const reasonInput = h('input', { id: 'bulk-reason', maxlength: '2000' });
    const run = async (action) => {
      if (!ids.length) { notify('Select tools first.', 'error'); return; }
      if (action === 'reject' && !reasonInput.value.trim()) {
        notify('A reason is required to reject.', 'error'); reasonInput.focus(); return;
      }
      try {
        const r = await api.post('/api/approvals/tools/bulk',
          { ids: ids.slice(0, 100), action, reason: action === 'reject' ? reasonInput.value.trim() : undefined });
        const results = Array.isArray(r.results) ? r.results : [];
        const failed = results.filter((x) => !x.ok);
        notify(`${results.length - failed.length} ${action === 'approve' ? 'approved' : 'rejected'}`
          + (failed.length ? `, ${failed.length} failed: ${failed.map((f) => f.error || f.id).join('; ')}` : '.'),
          failed.length ? 'error' : 'info');
        selected.clear();
        await load();
      } catch (e) { notify(e.message, 'error'); }
    };
    if (tools.length < 2) { replace(bulkEl); return; }
    const all = h('input', { type: 'checkbox', id: 'select-all', checked: ids.length === tools.length,
      onchange: (ev) => {
        for (const t of tools) { if (ev.target.checked) selected.add(t.tool_id); else selected.delete(t.tool_id); }
        load().catch(() => {});
      } });
    replace(bulkEl, h('div', { class: 'bulk-bar' },
      h('span', {}, all, h('label', { for: 'select-all' }, ' Select all')),
      h('button', { type: 'button', onclick: () => run('approve') }, `Approve selected (${ids.length})`),
      h('label', { for: 'bulk-reason' }, 'Reason'), reasonInput,
      h('button', { type: 'button', class: 'danger', onclick: () => run('reject') }, `Reject selected (${ids.length})`)));
  }

  function toolItem(t) {
    const full = String(t.full_name ?? `${t.server_name ?? ''}__${t.name ?? ''}`);
    const cbId = `sel-${String(t.tool_id).replace(/[^\w-]/g, '_')}`;
    const panel = h('div', { class: 'code-panel', hidden: !openCode.has(t.tool_id) });
    const toggle = h('button', { type: 'button', class: 'small', 'aria-expanded': String(openCode.has(t.tool_id)),
      onclick: async () => {
        if (openCode.has(t.tool_id)) {
          openCode.delete(t.tool_id); panel.hidden = true;
          toggle.setAttribute('aria-expanded', 'false'); toggle.textContent = 'Show code';
        } else {
          openCode.add(t.tool_id); panel.hidden = false;
          toggle.setAttribute('aria-expanded', 'true'); toggle.textContent = 'Hide code';
          await fill();
        }
      } }, openCode.has(t.tool_id) ? 'Hide code' : 'Show code');
    async function fill() {
      replace(panel, h('p', { class: 'muted' }, 'Loading…'));
      try {
        const r = await api.get(`/api/tools/${seg(t.tool_id)}`);
        replace(panel,
          h('h3', {}, `Code of ${full}`), codeBlock(reviewText(r.tool), `Code of ${full}`),
          h('h3', {}, 'Changes since the last approved version'), await approvedDiff(t.tool_id, reviewText(r.tool)));
      } catch (e) { replace(panel, h('p', { class: 'notice notice-error' }, e.message)); }
    }
    if (openCode.has(t.tool_id)) fill();
    return h('li', { class: 'review', 'data-tool-id': String(t.tool_id) },
      h('div', { class: 'review-head' },
        h('input', { type: 'checkbox', id: cbId, checked: selected.has(t.tool_id),
          onchange: (ev) => { if (ev.target.checked) selected.add(t.tool_id); else selected.delete(t.tool_id); load().catch(() => {}); } }),
        h('label', { for: cbId, class: 'sr-only' }, `Select ${full}`),
        h('h3', { class: 'review-title' }, h('a', { href: `#/tools/${encodeURIComponent(t.tool_id)}` }, full))),
      t.description ? h('p', { class: 'row-desc' }, String(t.description)) : null,
      h('p', { class: 'muted' }, [t.current_version ? `Version ${t.current_version}` : null,
        t.requested_at ? `requested ${when(t.requested_at)}` : null,
        t.requested_by ? `by ${t.requested_by}` : null].filter(Boolean).join(' · ')),
      t.publish_notes ? h('div', { class: 'notes' }, h('strong', {}, 'Publish notes: '), String(t.publish_notes))
        : h('p', { class: 'muted' }, 'No publish notes.'),
      t.title ? h('p', {}, h('strong', {}, 'Title: '), String(t.title)) : null,
      t.current_code === false ? h('p', { class: 'notice notice-error' }, 'The tool\'s code changed since it was submitted: title, schema and suggestions below are not shown.') : null,
      t.output_schema ? h('details', { class: 'output-schema' }, h('summary', {}, 'Output schema'),
        h('pre', {}, jsonText(t.output_schema))) : null,
      h('div', { class: 'actions' }, toggle),
      panel,
      hintsFieldset(t),
      decisionControls({ kind: 'tools', id: t.tool_id, label: full, notify, onDone: () => { chosen.delete(t.tool_id); load(); },
        approveBody: () => {
          const annotations = annotationsOf(t);
          return { ...(Object.keys(annotations).length ? { annotations } : {}),
            ...(t.code_hash ? { code_hash: String(t.code_hash) } : {}) };
        } }));
  }

  // One select per hint: not set (the default: nothing is claimed), yes or
  // no; the LLM's suggestion beside it.
  function hintsFieldset(t) {
    const suggested = t.suggested_annotations && typeof t.suggested_annotations === 'object'
      ? t.suggested_annotations : {};
    const mine = chosen.get(t.tool_id) ?? {};
    chosen.set(t.tool_id, mine);
    const base = `hint-${String(t.tool_id).replace(/[^\w-]/g, '_')}`;
    const rows = HINTS.map(([key, text]) => {
      const sid = `${base}-${key}`;
      const select = h('select', { id: sid, onchange: (ev) => { mine[key] = ev.target.value; } },
        h('option', { value: '' }, 'not set'), h('option', { value: 'yes' }, 'yes'), h('option', { value: 'no' }, 'no'));
      select.value = mine[key] ?? '';
      const hint = typeof suggested[key] === 'boolean' ? `LLM suggests: ${suggested[key] ? 'yes' : 'no'}` : 'no suggestion';
      return h('div', { class: 'hint-row' }, h('label', { for: sid }, text), select, h('span', { class: 'muted' }, ` ${hint}`));
    });
    return h('fieldset', { class: 'hints' }, h('legend', {}, 'Annotations clients will see'), rows);
  }

  function annotationsOf(t) {
    const mine = chosen.get(t.tool_id) ?? {};
    const out = {};
    for (const [key] of HINTS) if (mine[key] === 'yes' || mine[key] === 'no') out[key] = mine[key] === 'yes';
    return out;
  }

  function requestItem(kind, r) {
    const what = kind === 'modules' ? String(r.module_name ?? r.module ?? '')
      : `${r.host ?? ''}${r.port ? `:${r.port}` : ''}`;
    const label = `${kind === 'modules' ? 'module' : 'host'} ${what}`;
    return h('li', { class: 'review' },
      h('h3', { class: 'review-title' }, h('code', {}, what),
        h('span', { class: 'muted' }, ` for ${r.server_name ?? serverNames.get(r.server_id) ?? r.server_id ?? '?'}`)),
      h('div', { class: 'notes' }, h('strong', {}, 'Justification: '), String(r.justification ?? '—')),
      h('p', { class: 'muted' }, `Requested ${when(r.requested_at ?? r.created_at)}${r.requested_by ? ` by ${r.requested_by}` : ''}`,
        r.tool_id ? [' for ', h('a', { href: `#/tools/${encodeURIComponent(r.tool_id)}` }, 'this tool')] : null),
      decisionControls({ kind, id: r.id, label, notify, onDone: () => load() }));
  }

  const serverNames = new Map();     // server_id → name, for module and network requests
  let loading = null;
  async function load() {
    if (loading) { loading.again = true; return loading.p; }
    loading = { again: false };
    loading.p = (async () => {
      do {
        loading.again = false;
        const r = await api.get('/api/approvals');
        const tools = Array.isArray(r.pending_tools) ? r.pending_tools : [];
        const mods = Array.isArray(r.pending_module_requests) ? r.pending_module_requests : [];
        const nets = Array.isArray(r.pending_network_requests) ? r.pending_network_requests : [];
        for (const t of tools) if (t.server_id && t.server_name) serverNames.set(t.server_id, t.server_name);
        if ([...mods, ...nets].some((x) => x.server_id && !serverNames.has(x.server_id))) {
          try {
            const sv = await api.get('/api/servers?limit=100');
            for (const x of sv.servers || []) serverNames.set(x.id, x.name);
          } catch { /* ids are shown instead */ }
        }
        for (const idv of [...selected]) if (!tools.some((t) => t.tool_id === idv)) selected.delete(idv);
        renderBulk(tools);
        // keep focus inside an open reject form: do not re-render an item being edited
        const active = document.activeElement;
        const editing = active && active.closest && active.closest('li.review');
        const editingId = editing?.dataset.toolId;
        const keep = editingId ? toolsEl.querySelector(`li[data-tool-id="${CSS.escape(editingId)}"]`) : null;
        const items = tools.map((t) => (keep && t.tool_id === editingId ? keep : toolItem(t)));
        replace(toolsEl, tools.length ? h('ul', { class: 'review-list', 'aria-label': 'Pending tools' }, items)
          : h('p', { class: 'muted' }, 'No tools waiting for review.'));
        if (!editing || !modulesEl.contains(editing)) {
          replace(modulesEl, mods.length ? h('ul', { class: 'review-list', 'aria-label': 'Pending module requests' }, mods.map((x) => requestItem('modules', x)))
            : h('p', { class: 'muted' }, 'No module requests.'));
        }
        if (!editing || !networkEl.contains(editing)) {
          replace(networkEl, nets.length ? h('ul', { class: 'review-list', 'aria-label': 'Pending network requests' }, nets.map((x) => requestItem('network', x)))
            : h('p', { class: 'muted' }, 'No network requests.'));
        }
      } while (loading.again);
    })().finally(() => { loading = null; });
    return loading.p;
  }

  // subscribed before the first fetch: a request made while that fetch is on
  // its way is announced during it, and must make it run again (not wait for
  // the 30 s poll)
  let timer = null;
  const soon = () => {
    if (timer) return;
    timer = setTimeout(() => { timer = null; load().catch((e) => notify(e.message, 'error')); }, 100);
  };
  const unsub = live.subscribe((m) => {
    if (m.type === 'connected' || m.type === 'dropped') soon();
    else if (m.type === 'log' && RELEVANT.test(m.data?.type ?? '')) soon();
  });
  try {
    await load();
  } catch (e) {
    unsub(); clearTimeout(timer);
    throw e;
  }
  // a safety net: poll every 5 s while the stream is down, every 30 s otherwise
  let ticks = 0;
  const poll = setInterval(() => {
    ticks += 1;
    if (live.state !== 'open' || ticks % 6 === 0) load().catch(() => {});
  }, 5000);
  return () => { unsub(); clearInterval(poll); clearTimeout(timer); };
}
