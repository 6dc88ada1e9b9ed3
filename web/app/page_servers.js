// page_servers.js — the server list (with an add form) and one server: its
// tools with their status, start/stop, secrets (keys listed, values set here
// and never shown), allowed hosts and modules, external sources (an OAuth
// one's state, and its authorization begun here).
import { h, replace, pill, when } from './dom.js';
import { api, seg } from './api.js';
import { live } from './live.js';

export async function renderList(main, _params, { notify, go }) {
  const listEl = h('div', {});
  const name = h('input', { id: 'new-server-name', required: true, maxlength: '64',
                            pattern: '[a-z][a-z0-9_]*', autocapitalize: 'none', spellcheck: 'false' });
  const desc = h('input', { id: 'new-server-desc', maxlength: '500' });
  const addForm = h('form', { class: 'inline-form', 'aria-labelledby': 'h-add-server' },
    h('h2', { id: 'h-add-server' }, 'Add a server'),
    h('div', { class: 'field' }, h('label', { for: 'new-server-name' }, 'Name'), name),
    h('div', { class: 'field' }, h('label', { for: 'new-server-desc' }, 'Description'), desc),
    h('button', { type: 'submit' }, 'Add server'));
  addForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const r = await api.post('/api/servers', { name: name.value.trim(), description: desc.value });
      notify(`Server ${r.server?.name ?? ''} added.`);
      if (r.server?.id) go(`/servers/${encodeURIComponent(r.server.id)}`); else await load();
    } catch (e) { notify(e.message, 'error'); }
  });
  replace(main, h('h1', {}, 'Servers'), listEl, addForm);

  async function load() {
    const r = await api.get('/api/servers?limit=100');
    const list = Array.isArray(r.servers) ? r.servers : [];
    if (!list.length) { replace(listEl, h('p', { class: 'muted' }, 'No servers yet. An LLM creates them over MCP, or add one below.')); return; }
    replace(listEl, h('ul', { class: 'server-list', 'aria-label': 'Servers' }, list.map((sv) => h('li', { class: 'row' },
      h('a', { href: `#/servers/${encodeURIComponent(sv.id)}`, class: 'row-title' }, String(sv.name ?? sv.id)),
      ' ', pill(sv.status),
      h('span', { class: 'muted' }, ` ${sv.tool_count ?? 0} tool${sv.tool_count === 1 ? '' : 's'}`),
      sv.description ? h('p', { class: 'row-desc' }, String(sv.description)) : null))),
      r.next_cursor ? h('p', { class: 'muted' }, 'Showing the first 100 servers.') : null);
  }
  // subscribed before the first fetch, and a (re)connected or lossy stream
  // loads again: a change announced while a fetch is on its way is not missed
  const unsub = live.subscribe((m) => {
    if (m.type === 'connected' || m.type === 'dropped'
        || (m.type === 'log' && /^server\./.test(m.data?.type ?? ''))) load().catch(() => {});
  });
  try {
    await load();
  } catch (e) {
    unsub();
    throw e;
  }
  return unsub;
}

function section(id, title, ...children) {
  return h('section', { 'aria-labelledby': id, class: 'panel' }, h('h2', { id }, title), ...children);
}

export async function renderServer(main, [id], { notify, go }) {
  const base = `/api/servers/${seg(id)}`;
  const head = h('div', {});
  const tools = h('div', {});
  const secrets = h('div', {});
  const hosts = h('div', {});
  const modules = h('div', {});
  const sources = h('div', {});
  replace(main, head,
    section('h-tools', 'Tools', tools),
    section('h-secrets', 'Secrets', h('p', { class: 'hint' },
      'The LLM declares the keys; values are set here and never shown again.'), secrets),
    section('h-hosts', 'Allowed hosts', hosts),
    section('h-modules', 'Allowed modules', modules),
    section('h-sources', 'External sources', h('p', { class: 'hint' },
      'Other MCP servers whose tools the LLM imported; their tools are approved like any other.'), sources));

  async function loadServer() {
    const r = await api.get(base);
    const sv = r.server || {};
    const running = sv.status === 'running';
    const toggle = h('button', { type: 'button', class: running ? '' : 'primary', onclick: async () => {
      toggle.disabled = true;
      try {
        await api.post(`${base}/${running ? 'stop' : 'start'}`);
        notify(`Server ${running ? 'stopped' : 'started'}.`);
      } catch (e) { notify(e.message, 'error'); }
      await loadServer().catch(() => {});
    } }, running ? 'Stop server' : 'Start server');
    let armed = false;
    const del = h('button', { type: 'button', class: 'danger', onclick: async () => {
      if (!armed) { armed = true; del.textContent = 'Confirm delete'; return; }
      try { await api.del(base); notify('Server deleted.'); go('/servers'); } catch (e) { notify(e.message, 'error'); }
    } }, 'Delete server');
    replace(head,
      h('p', { class: 'crumbs' }, h('a', { href: '#/servers' }, 'Servers'), ' / '),
      h('h1', {}, String(sv.name ?? id), ' ', pill(sv.status)),
      sv.description ? h('p', {}, String(sv.description)) : null,
      h('div', { class: 'actions' }, toggle, del));
    const list = Array.isArray(r.tools) ? r.tools : [];
    replace(tools, list.length ? h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Tools table' }, h('table', {},
      h('thead', {}, h('tr', {}, ['Tool', 'Status', 'Enabled', 'Version', 'Description']
        .map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, list.map((t) => h('tr', {},
        h('td', {}, h('a', { href: `#/tools/${encodeURIComponent(t.id)}` }, String(t.name ?? t.id))),
        h('td', {}, pill(t.approval_status), t.removed_at ? [' ', h('span', { class: ['pill', 'pill-warning'], title: `Removed at the source ${when(t.removed_at)}` }, 'removed at source')] : null),
        h('td', {}, t.enabled === false ? 'no' : 'yes'),
        h('td', {}, String(t.current_version ?? '')),
        h('td', { class: 'cell-desc' }, String(t.description ?? ''))))))) : h('p', { class: 'muted' }, 'No tools yet.'));
  }

  async function loadSecrets() {
    const r = await api.get(`${base}/secrets`);
    const list = Array.isArray(r.secrets) ? r.secrets : [];
    const key = h('input', { id: 'secret-new-key', maxlength: '64', pattern: '[A-Z][A-Z0-9_]*',
                             autocapitalize: 'characters', spellcheck: 'false', required: true });
    const addForm = h('form', { class: 'inline-form' },
      h('div', { class: 'field' }, h('label', { for: 'secret-new-key' }, 'New key'), key),
      h('button', { type: 'submit' }, 'Add key'));
    addForm.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try { await api.post(`${base}/secrets`, { key: key.value.trim() }); notify('Key added.'); await loadSecrets(); }
      catch (e) { notify(e.message, 'error'); }
    });
    replace(secrets, list.length ? h('ul', { class: 'secret-list', 'aria-label': 'Secrets' }, list.map((sec, i) => {
      const inputId = `secret-value-${i}`;
      const value = h('input', { id: inputId, type: 'password', autocomplete: 'off', maxlength: '8192',
                                 spellcheck: 'false' });
      const form = h('form', { class: 'inline-form' },
        h('label', { for: inputId }, `Value for ${sec.key}`), value,
        h('button', { type: 'submit' }, 'Save value'));
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        if (!value.value) { notify('Enter a value first.', 'error'); value.focus(); return; }
        try {
          await api.put(`${base}/secrets/${seg(sec.key)}`, { value: value.value });
          value.value = '';
          notify(`Value of ${sec.key} saved.`);
          await loadSecrets();
        } catch (e) { notify(e.message, 'error'); }
      });
      let armed = false;
      const del = h('button', { type: 'button', class: 'danger small', 'aria-label': `Delete ${sec.key}`,
        onclick: async () => {
          if (!armed) { armed = true; del.textContent = 'Confirm delete'; return; }
          try { await api.del(`${base}/secrets/${seg(sec.key)}`); notify(`${sec.key} deleted.`); await loadSecrets(); }
          catch (e) { notify(e.message, 'error'); }
        } }, 'Delete');
      return h('li', { class: 'row' },
        h('code', { class: 'row-title' }, String(sec.key)), ' ',
        h('span', { class: ['pill', sec.has_value ? 'pill-ok' : 'pill-warning'] }, sec.has_value ? 'value set' : 'no value'),
        sec.description ? h('p', { class: 'row-desc' }, String(sec.description)) : null,
        sec.updated_at ? h('p', { class: 'muted' }, `Updated ${when(sec.updated_at)}`) : null,
        form, del);
    })) : h('p', { class: 'muted' }, 'No secrets declared.'), addForm);
  }

  async function loadHosts() {
    const r = await api.get(`${base}/hosts`);
    const list = Array.isArray(r.hosts) ? r.hosts : [];
    const host = h('input', { id: 'host-new', required: true, maxlength: '253', spellcheck: 'false', autocapitalize: 'none' });
    const port = h('input', { id: 'host-port', type: 'number', min: '1', max: '65535', inputmode: 'numeric' });
    const form = h('form', { class: 'inline-form' },
      h('div', { class: 'field' }, h('label', { for: 'host-new' }, 'Host'), host),
      h('div', { class: 'field' }, h('label', { for: 'host-port' }, 'Port (optional)'), port),
      h('button', { type: 'submit' }, 'Allow host'));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const body = { host: host.value.trim() };
      if (port.value) body.port = Number(port.value);
      try { await api.post(`${base}/hosts`, body); notify('Host allowed.'); await loadHosts(); }
      catch (e) { notify(e.message, 'error'); }
    });
    replace(hosts, list.length ? h('ul', { class: 'plain-list', 'aria-label': 'Allowed hosts' }, list.map((x) => h('li', {},
      h('code', {}, `${x.host ?? ''}${x.port ? `:${x.port}` : ''}`), ' ', pill(x.status),
      x.justification ? h('span', { class: 'muted' }, ` — ${x.justification}`) : null,
      x.requested_by ? h('span', { class: 'muted' }, ` (by ${x.requested_by})`) : null)))
      : h('p', { class: 'muted' }, 'No hosts: tools of this server reach no network.'), form);
  }

  async function loadModules() {
    const r = await api.get(`${base}/modules`);
    const list = Array.isArray(r.modules) ? r.modules : [];
    const mod = h('input', { id: 'module-new', required: true, maxlength: '100', spellcheck: 'false', autocapitalize: 'none' });
    const form = h('form', { class: 'inline-form' },
      h('div', { class: 'field' }, h('label', { for: 'module-new' }, 'Module'), mod),
      h('button', { type: 'submit' }, 'Allow module'));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try { await api.post(`${base}/modules`, { module_name: mod.value.trim() }); notify('Module allowed.'); await loadModules(); }
      catch (e) { notify(e.message, 'error'); }
    });
    replace(modules, list.length ? h('ul', { class: 'plain-list tags', 'aria-label': 'Allowed modules' }, list.map((m) => {
      const text = typeof m === 'string' ? m : (m.module_name ?? m.name ?? '');
      return h('li', {}, h('code', {}, String(text)), typeof m === 'object' && m.status ? pill(m.status) : null);
    })) : h('p', { class: 'muted' }, 'Only the default allowlist (see Settings).'), form);
  }

  // An OAuth source: its state, and a button that begins the authorization
  // (POST /api/sources/{id}/authorize). The authorization server's address
  // is shown as text to copy, not a link: the dashboard links in-app only.
  function oauthPart(x) {
    const out = h('div', {});
    const id = `oauth-url-${String(x.id ?? '').replace(/[^\w-]/g, '')}`;
    const button = h('button', { type: 'button', 'aria-label': `Authorize ${String(x.name ?? '')}` },
      'Authorize');
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        const r = await api.post(`/api/sources/${seg(x.id)}/authorize`, {});
        replace(out, h('label', { for: id }, 'Open this address in a browser to approve MCPbox’s access ' +
                         '(good for 10 minutes, once); the browser comes back here when done:'),
          h('input', { id, readonly: true, value: String(r.authorization_url ?? ''), spellcheck: 'false' }));
        notify('Authorization begun: open the address shown.');
      } catch (e) { notify(e.message, 'error'); }
      finally { button.disabled = false; }
    });
    return [h('p', {}, 'OAuth ', pill(x.oauth?.state ?? 'unknown'), ' ', button,
      x.oauth?.last_error ? h('span', { class: 'muted' }, ` ${x.oauth.last_error}`) : null), out];
  }

  async function loadSources() {
    const r = await api.get(`${base}/sources`);
    const list = Array.isArray(r.sources) ? r.sources : [];
    replace(sources, list.length ? h('ul', { class: 'plain-list', 'aria-label': 'External sources' }, list.map((x) => h('li', {},
      h('strong', {}, String(x.name ?? '')), ' ', h('code', {}, String(x.url ?? '')), ' ', pill(x.status),
      h('span', { class: 'muted' }, ` ${x.tool_count ?? 0} tool${x.tool_count === 1 ? '' : 's'} · ${x.transport_type ?? ''} · auth ${x.auth_type ?? ''}`),
      x.auth_type === 'oauth' ? oauthPart(x) : null,
      h('p', { class: 'muted' }, x.last_contact_at ? `Last contact ${when(x.last_contact_at)}` : 'Never reached'),
      x.last_error ? h('p', { class: 'notice notice-error' }, `Last error${x.last_error_at ? ` (${when(x.last_error_at)})` : ''}: ${x.last_error}`) : null)))
      : h('p', { class: 'muted' }, 'No external sources.'));
  }

  const part = (fn, el) => fn().catch((e) => replace(el, h('p', { class: 'notice notice-error' }, e.message)));
  const loadParts = () => Promise.all([part(loadSecrets, secrets), part(loadHosts, hosts),
                                       part(loadModules, modules), part(loadSources, sources)]);
  // subscribed before the first fetch: a change announced while a fetch is on
  // its way (a source added as the page opens) makes it run again; a
  // (re)connected or lossy stream loads everything again
  const unsub = live.subscribe((m) => {
    if (m.type === 'connected' || m.type === 'dropped') {
      loadServer().catch(() => {});
      loadParts();
      return;
    }
    if (m.type !== 'log' || (m.data?.server_id && m.data.server_id !== id)) return;
    const t = m.data?.type ?? '';
    if (/^(server|tool|approval)\./.test(t)) loadServer().catch(() => {});
    if (/^secret\./.test(t)) loadSecrets().catch(() => {});
    if (/^source\./.test(t)) loadSources().catch(() => {});
  });
  try {
    await loadServer();
    await loadParts();
  } catch (e) {
    unsub();
    throw e;
  }
  return unsub;
}
