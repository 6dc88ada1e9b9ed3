// api.js — the REST client. Cookies carry the session (HttpOnly, set by the
// gateway); the CSRF token from the login/refresh body is kept in memory and
// sessionStorage and sent as X-CSRF-Token on every state-changing request.
// On a 401 the client tries POST /api/auth/refresh once, then sends the
// browser to the sign-in page.

const CSRF_KEY = 'mcpbox.csrf';
let csrf = sessionStorage.getItem(CSRF_KEY) || '';
let refreshing = null;
let generation = 0;          // counts successful refreshes: a 401 to a request sent before
                             // the latest one is retried without refreshing again (refresh
                             // tokens are single-use; a second refresh with a spent one would
                             // revoke the login)
const unauthorizedHandlers = [];

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

export function setCsrf(token) {
  csrf = typeof token === 'string' ? token : '';
  if (csrf) sessionStorage.setItem(CSRF_KEY, csrf); else sessionStorage.removeItem(CSRF_KEY);
}

export function hasCsrf() { return !!csrf; }

/** fn() is called when the session is gone for good (refresh failed). */
export function onUnauthorized(fn) { unauthorizedHandlers.push(fn); }

async function send(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  const res = await fetch(path, {
    method, headers, credentials: 'same-origin', cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  const type = res.headers.get('content-type') || '';
  if (type.includes('application/json')) {
    try { data = await res.json(); } catch { data = null; }
  }
  return { res, data };
}

async function refresh() {
  if (!refreshing) {
    refreshing = (async () => {
      try {
        const { res, data } = await send('POST', '/api/auth/refresh', {});
        if (res.ok && data && data.csrf_token) { setCsrf(data.csrf_token); generation += 1; return true; }
      } catch { /* network: treated as signed out */ }
      return false;
    })().finally(() => { setTimeout(() => { refreshing = null; }, 0); });
  }
  return refreshing;
}

/** request('GET', '/api/servers') → parsed JSON; throws ApiError. */
export async function request(method, path, body, { auth = true } = {}) {
  const sentAt = generation;
  let { res, data } = await send(method, path, body);
  if (res.status === 401 && auth) {
    if (sentAt !== generation || await refresh()) ({ res, data } = await send(method, path, body));
    if (res.status === 401) {
      setCsrf('');
      for (const fn of unauthorizedHandlers) fn();
    }
  }
  if (!res.ok) {
    const err = data && data.error ? data.error : {};
    throw new ApiError(res.status, err.code || 'http_error',
                       err.message || `${method} ${path}: HTTP ${res.status}`);
  }
  return data ?? {};
}

export const api = {
  get: (path) => request('GET', path),
  post: (path, body = {}) => request('POST', path, body),
  put: (path, body = {}) => request('PUT', path, body),
  patch: (path, body = {}) => request('PATCH', path, body),
  del: (path) => request('DELETE', path),
};

/** Encode one path segment (ids and keys come from the server). */
export const seg = (value) => encodeURIComponent(String(value ?? ''));

/** '/api/logs' + {a: 1, b: null} → '/api/logs?a=1' */
export function withQuery(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const text = q.toString();
  return text ? `${path}?${text}` : path;
}
