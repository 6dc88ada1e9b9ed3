// page_settings.js — the security policy (each setting's choices, the most
// restrictive first; every weaker choice carries its warning beside it),
// the profiles, the default module allowlist, and the service tokens of the
// remote listener (made here, shown once, revoked), the apps authorized
// through MCPbox's OAuth server (listed, revoked), and the webhook alerts
// (added, tested, removed; a URL is shown only by its start, as the alerts
// actor gives it: a chat webhook URL is its channel's credential).
import { h, replace } from './dom.js';
import { api, seg } from './api.js';

// What the UI knows about each setting; the API's `weaker` texts win when given.
const SCHEMA = {
  tool_approval_mode: { label: 'Tool approval', options: ['require_approval', 'auto_approve'],
    warn: { auto_approve: 'Code written by an LLM runs without anyone reading it first.' } },
  network_access_policy: { label: 'Network access', options: ['require_approval', 'allow_all_public'],
    warn: { allow_all_public: 'Tools may send data to any public host without review.' } },
  module_approval_mode: { label: 'Module requests', options: ['require_approval', 'auto_approve'],
    warn: { auto_approve: 'Module requests are granted at once (forbidden modules stay refused).' } },
  remote_tool_editing: { label: 'Remote tool editing', options: ['disabled', 'enabled'],
    warn: { enabled: 'An MCP client may change tool code remotely.' } },
  redact_secrets_in_output: { label: 'Redact secrets in output', options: ['enabled', 'disabled'],
    warn: { disabled: 'Secret values may appear in tool results, errors and logs.' } },
  log_retention_days: { label: 'Log retention (days)', number: { min: 1, max: 3650 } },
  mcp_rate_limit_rpm: { label: 'MCP rate limit (requests per minute)', number: { min: 10, max: 10000 } },
};
const PROFILES = [
  ['strict', 'Every tool, module and host is reviewed; remote editing off; redaction on.'],
  ['balanced', 'Strict, but module requests are granted at once.'],
  ['permissive', 'Everything automatic: tools, modules and any public host. Weakest.'],
];

function warnText(weaker, key, value, fallback) {
  const w = weaker && weaker[key];
  if (w && typeof w === 'object' && typeof w[value] === 'string') return w[value];
  if (typeof w === 'string') return w;
  return fallback;
}

export async function render(main, _params, { notify }) {
  const policyEl = h('div', {});
  const profileEl = h('div', {});
  const modulesEl = h('div', {});
  const tokensEl = h('div', {});
  const appsEl = h('div', {});
  const alertsEl = h('div', {});
  replace(main, h('h1', {}, 'Settings'),
    h('section', { class: 'panel', 'aria-labelledby': 'h-policy' }, h('h2', { id: 'h-policy' }, 'Security policy'), policyEl),
    h('section', { class: 'panel', 'aria-labelledby': 'h-profile' }, h('h2', { id: 'h-profile' }, 'Profiles'), profileEl),
    h('section', { class: 'panel', 'aria-labelledby': 'h-allow' }, h('h2', { id: 'h-allow' }, 'Module allowlist'), modulesEl),
    h('section', { class: 'panel', 'aria-labelledby': 'h-tokens' }, h('h2', { id: 'h-tokens' }, 'Service tokens'), tokensEl),
    h('section', { class: 'panel', 'aria-labelledby': 'h-apps' }, h('h2', { id: 'h-apps' }, 'Authorized apps (OAuth)'), appsEl),
    h('section', { class: 'panel', 'aria-labelledby': 'h-alerts' }, h('h2', { id: 'h-alerts' }, 'Webhook alerts'), alertsEl));

  async function loadPolicy() {
    const r = await api.get('/api/settings');
    const settings = r.settings || {};
    const weaker = r.weaker || {};
    const keys = [...Object.keys(SCHEMA).filter((k) => k in settings),
                  ...Object.keys(settings).filter((k) => !(k in SCHEMA))];
    const form = h('form', { class: 'policy' });
    for (const key of keys) {
      const def = SCHEMA[key] || {};
      const value = settings[key];
      if (def.options) {
        form.appendChild(h('fieldset', { class: 'setting' },
          h('legend', {}, def.label, h('code', { class: 'muted setting-key' }, ` ${key}`)),
          def.options.map((opt, i) => {
            const id = `set-${key}-${opt}`;
            const warning = i > 0 ? warnText(weaker, key, opt, def.warn?.[opt] || 'A weaker choice than the default.') : null;
            return h('div', { class: 'choice' },
              h('input', { type: 'radio', id, name: key, value: opt, checked: String(value) === opt,
                           'aria-describedby': warning ? `${id}-warn` : null }),
              h('label', { for: id }, opt, i === 0 ? h('span', { class: 'muted' }, ' (default, most restrictive)') : null),
              warning ? h('span', { id: `${id}-warn`, class: 'warning' }, h('span', { 'aria-hidden': 'true' }, '⚠ '), `Warning: ${warning}`) : null);
          })));
      } else {
        const id = `set-${key}`;
        form.appendChild(h('div', { class: 'field setting' },
          h('label', { for: id }, def.label || key),
          h('input', { id, name: key, type: def.number || typeof value === 'number' ? 'number' : 'text',
                       min: def.number ? String(def.number.min) : null, max: def.number ? String(def.number.max) : null,
                       value: String(value ?? '') }),
          typeof weaker[key] === 'string' ? h('span', { class: 'warning' }, `Warning: ${weaker[key]}`) : null));
      }
    }
    const save = h('button', { type: 'submit', class: 'primary' }, 'Save policy');
    form.appendChild(save);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const changed = {};
      for (const key of keys) {
        const el = form.elements[key];
        if (!el) continue;
        let v = el.value;
        if (SCHEMA[key]?.number || typeof settings[key] === 'number') v = Number(v);
        if (String(v) !== String(settings[key])) changed[key] = v;
      }
      if (!Object.keys(changed).length) { notify('Nothing changed.'); return; }
      save.disabled = true;
      try {
        await api.put('/api/settings', changed);
        notify(`Policy saved (${Object.keys(changed).join(', ')}).`);
        await Promise.all([loadPolicy(), loadProfile()]);
      } catch (e) { notify(e.message, 'error'); save.disabled = false; }
    });
    replace(policyEl, form);
    return r;
  }

  async function loadProfile(known) {
    const r = known || await api.get('/api/settings');
    const form = h('form', { class: 'profiles' },
      h('p', {}, 'Current profile: ', h('strong', {}, String(r.profile || 'custom'))),
      h('fieldset', {}, h('legend', {}, 'Profile'),
        PROFILES.map(([name, text]) => h('div', { class: 'choice' },
          h('input', { type: 'radio', id: `profile-${name}`, name: 'profile', value: name, checked: r.profile === name,
                       'aria-describedby': `profile-${name}-desc` }),
          h('label', { for: `profile-${name}` }, name),
          h('span', { id: `profile-${name}-desc`, class: name === 'strict' ? 'muted' : 'warning' },
            name === 'strict' ? text : `Warning: ${text}`)))),
      h('button', { type: 'submit' }, 'Apply profile'));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const name = form.elements.profile.value;
      if (!name) { notify('Choose a profile.', 'error'); return; }
      try {
        await api.post('/api/settings/profile', { name });
        notify(`Profile ${name} applied.`);
        const again = await loadPolicy();
        await loadProfile(again);
      } catch (e) { notify(e.message, 'error'); }
    });
    replace(profileEl, form);
  }

  async function loadModules() {
    const r = await api.get('/api/settings/modules');
    const list = (items) => h('ul', { class: 'plain-list tags' }, (Array.isArray(items) ? items : [])
      .map((m) => h('li', {}, h('code', {}, String(typeof m === 'string' ? m : m.name ?? '')))));
    replace(modulesEl,
      h('p', { class: 'hint' }, 'Every server may import these; others need an approved module request.'),
      h('h3', {}, `Allowed (${(r.allowed || []).length})`), list(r.allowed),
      h('h3', {}, `Forbidden, whatever is approved (${(r.forbidden || []).length})`), list(r.forbidden));
  }

  // Service tokens: what a remote MCP client sends as 'Authorization: Bearer'
  // to /mcp on the remote listener. A new token is shown once, here.
  const shownEl = h('div', { role: 'status', 'aria-live': 'polite' });
  async function loadTokens() {
    const r = await api.get('/api/tokens');
    const tokens = Array.isArray(r.tokens) ? r.tokens : [];
    const when = (t) => (typeof t === 'number' ? new Date(t * 1000).toISOString().replace('T', ' ').slice(0, 16) + ' UTC' : 'never');
    const nameInput = h('input', { id: 'token-name', name: 'name', required: true, maxlength: '64',
                                   pattern: '[A-Za-z][A-Za-z0-9_.\\-]{0,63}', autocomplete: 'off',
                                   'aria-describedby': 'token-name-hint' });
    const form = h('form', { class: 'token-create' },
      h('div', { class: 'field' }, h('label', { for: 'token-name' }, 'New token name'), nameInput,
        h('span', { id: 'token-name-hint', class: 'hint' }, 'A letter, then letters, digits, _ . or - (at most 64).')),
      h('button', { type: 'submit', class: 'primary' }, 'Create token'));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        const made = await api.post('/api/tokens', { name: nameInput.value });
        const name = made.token_info?.name ?? nameInput.value;
        replace(shownEl, h('div', { class: 'notice' },
          h('p', {}, `Token ${name} created. Copy it now: it is not shown again.`),
          h('label', { for: 'token-value' }, `Token ${name}`),
          h('input', { id: 'token-value', readonly: true, value: String(made.token ?? ''), class: 'token-value' })));
        notify(`Token ${name} created.`);
        await loadTokens();
      } catch (e) { notify(e.message, 'error'); }
    });
    const table = tokens.length ? h('table', { class: 'tokens' },
      h('caption', { class: 'muted' }, 'Live service tokens'),
      h('thead', {}, h('tr', {}, ['Name', 'Created', 'Last used', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, tokens.map((t) => {
        const revoke = h('button', { type: 'button', 'aria-label': `Revoke token ${t.name}` }, 'Revoke');
        revoke.addEventListener('click', async () => {
          revoke.disabled = true;
          try {
            await api.del(`/api/tokens/${seg(t.id)}`);
            notify(`Token ${t.name} revoked.`);
            await loadTokens();
          } catch (e) { notify(e.message, 'error'); revoke.disabled = false; }
        });
        return h('tr', {}, h('td', {}, String(t.name)), h('td', {}, when(t.created_at)),
                 h('td', {}, when(t.last_used_at)), h('td', {}, revoke));
      }))) : h('p', { class: 'muted' }, 'No service tokens.');
    replace(tokensEl,
      h('p', { class: 'hint' }, 'A remote MCP client (through the tunnel) sends one as ',
        h('code', {}, 'Authorization: Bearer <token>'), ' to /mcp on the remote listener.'),
      shownEl, table, form);
  }

  // Apps an admin approved on the OAuth consent page (claude.ai connectors,
  // MCP clients). Revoke ends every token of the app at once.
  async function loadApps() {
    const r = await api.get('/api/oauth/clients');
    const apps = Array.isArray(r.clients) ? r.clients : [];
    const when = (t) => (typeof t === 'number' && t > 0 ? new Date(t * 1000).toISOString().replace('T', ' ').slice(0, 16) + ' UTC' : 'never');
    const table = apps.length ? h('table', { class: 'tokens oauth-apps' },
      h('caption', { class: 'muted' }, 'Apps authorized for /mcp'),
      h('thead', {}, h('tr', {}, ['App', 'Client ID', 'Active grants', 'Approved', 'Last used', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, apps.map((a) => {
        const name = String(a.client_name ?? '');
        const revoke = h('button', { type: 'button', 'aria-label': `Revoke app ${name}` }, 'Revoke');
        revoke.disabled = !(a.active_grants > 0) && !(a.approved_at > 0);
        revoke.addEventListener('click', async () => {
          revoke.disabled = true;
          try {
            await api.post('/api/oauth/clients/revoke', { client_id: a.client_id });
            notify(`App ${name} revoked.`);
            await loadApps();
          } catch (e) { notify(e.message, 'error'); revoke.disabled = false; }
        });
        return h('tr', {}, h('td', {}, name), h('td', {}, h('code', {}, String(a.client_id ?? ''))),
                 h('td', {}, String(a.active_grants ?? 0)), h('td', {}, when(a.approved_at)),
                 h('td', {}, when(a.last_used_at)), h('td', {}, revoke));
      }))) : h('p', { class: 'muted' }, 'No app is authorized.');
    replace(appsEl,
      h('p', { class: 'hint' }, 'Apps such as claude.ai connectors get access to /mcp when an admin approves them on the consent page. Revoking ends all their tokens; they must be approved again.'),
      table);
  }

  // Webhook alerts (docs/DESIGN.md section 16): where the alerts actor posts
  // a crash loop, the circuit opening, the tunnel going down, log loss or a
  // failed retention. Every text here comes from the API and is set as text.
  const ALERT_EVENTS = ['process.crash_loop', 'circuit.opened', 'tunnel.down', 'logs.lost', 'retention.failed'];
  async function loadAlerts() {
    const r = await api.get('/api/alerts');
    const hooks = Array.isArray(r.hooks) ? r.hooks : [];
    const urlInput = h('input', { id: 'alert-url', name: 'url', type: 'url', required: true, maxlength: '2048',
                                  autocomplete: 'off', 'aria-describedby': 'alert-url-hint' });
    const format = h('select', { id: 'alert-format', name: 'format' },
      ['json', 'slack', 'discord'].map((f) => h('option', { value: f }, f)));
    const events = h('fieldset', { class: 'alert-events' }, h('legend', {}, 'Events (none checked: all)'),
      ALERT_EVENTS.map((name) => h('div', { class: 'choice' },
        h('input', { type: 'checkbox', id: `alert-event-${name}`, name: 'events', value: name }),
        h('label', { for: `alert-event-${name}` }, name))));
    const form = h('form', { class: 'alert-add' },
      h('div', { class: 'field' }, h('label', { for: 'alert-url' }, 'Webhook URL'), urlInput,
        h('span', { id: 'alert-url-hint', class: 'hint' }, 'http or https. Once added it is shown only by its start: a chat webhook URL is a secret.')),
      h('div', { class: 'field' }, h('label', { for: 'alert-format' }, 'Format'), format),
      events,
      h('button', { type: 'submit', class: 'primary' }, 'Add webhook'));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const chosen = [...form.querySelectorAll('input[name=events]:checked')].map((c) => c.value);
      try {
        const made = await api.post('/api/alerts', { url: urlInput.value, format: format.value,
                                                     ...(chosen.length ? { events: chosen } : {}) });
        notify(`Webhook ${String(made.hook?.url ?? '')} added.`);
        await loadAlerts();
      } catch (e) { notify(e.message, 'error'); }
    });
    // scrolls sideways on a phone (a region with a name, reachable by keyboard)
    const table = hooks.length ? h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Webhooks table' }, h('table', { class: 'tokens alert-hooks' },
      h('caption', { class: 'muted' }, 'Webhooks'),
      h('thead', {}, h('tr', {}, ['URL', 'Format', 'Events', 'Sent', 'Failed', 'Last', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, hooks.map((k) => {
        const shown = String(k.url ?? '');
        const test = h('button', { type: 'button', 'aria-label': `Send a test alert to ${shown}` }, 'Test');
        const remove = h('button', { type: 'button', 'aria-label': `Remove webhook ${shown}` }, 'Remove');
        test.addEventListener('click', async () => {
          test.disabled = true;
          try {
            const t = await api.post(`/api/alerts/${seg(k.id)}/test`, {});
            notify(t.queued ? `Test alert queued for ${shown}.` : `The test alert for ${shown} was not queued.`, t.queued ? undefined : 'error');
            await loadAlerts();
          } catch (e) { notify(e.message, 'error'); test.disabled = false; }
        });
        remove.addEventListener('click', async () => {
          remove.disabled = true;
          try {
            await api.del(`/api/alerts/${seg(k.id)}`);
            notify(`Webhook ${shown} removed.`);
            await loadAlerts();
          } catch (e) { notify(e.message, 'error'); remove.disabled = false; }
        });
        const last = k.last_error ? String(k.last_error) : (k.last_status > 0 ? `HTTP ${k.last_status}` : '—');
        return h('tr', {}, h('td', {}, h('code', {}, shown)), h('td', {}, String(k.format ?? '')),
                 h('td', {}, String(k.events ?? '')), h('td', {}, String(k.sent ?? 0)),
                 h('td', {}, String(k.failed ?? 0)), h('td', {}, last), h('td', {}, test, ' ', remove));
      })))) : h('p', { class: 'muted' }, 'No webhook alerts.');
    replace(alertsEl,
      h('p', { class: 'hint' }, 'MCPbox posts an alert here when a process crash-loops, the sandbox circuit opens, the tunnel goes down, logs are lost or retention fails. No secret is ever in an alert.'),
      table, form);
  }

  const first = await loadPolicy();
  await loadProfile(first);
  await loadModules().catch((e) => replace(modulesEl, h('p', { class: 'notice notice-error' }, e.message)));
  await loadTokens().catch((e) => replace(tokensEl, h('p', { class: 'notice notice-error' }, e.message)));
  await loadApps().catch((e) => replace(appsEl, h('p', { class: 'notice notice-error' }, e.message)));
  await loadAlerts().catch((e) => replace(alertsEl, h('p', { class: 'notice notice-error' }, e.message)));
}
