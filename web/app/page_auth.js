// page_auth.js — first-run setup (create the admin) and sign in. Fields are
// labelled Username and Password; buttons Create account and Sign in.
import { h, replace } from './dom.js';
import { request } from './api.js';

function field(id, label, attrs) {
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    h('input', { id, name: id, required: true, ...attrs }));
}

function form({ title, intro, button, onSubmit, passwordHint }) {
  const error = h('p', { class: 'notice notice-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, button);
  const el = h('form', { class: 'auth-form', novalidate: true },
    h('h1', {}, title),
    intro ? h('p', { class: 'muted' }, intro) : null,
    field('username', 'Username', { autocomplete: 'username', maxlength: '50', autocapitalize: 'none',
                                     spellcheck: 'false' }),
    field('password', 'Password', { type: 'password', maxlength: '128',
                                     autocomplete: passwordHint ? 'new-password' : 'current-password',
                                     'aria-describedby': passwordHint ? 'password-hint' : null }),
    passwordHint ? h('p', { id: 'password-hint', class: 'hint' }, passwordHint) : null,
    error, submit);
  el.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const username = el.elements.username.value.trim();
    const password = el.elements.password.value;
    error.hidden = true;
    if (!username || !password) {
      error.textContent = 'Enter a username and a password.';
      error.hidden = false;
      return;
    }
    submit.disabled = true;
    try {
      await onSubmit(username, password);
    } catch (e) {
      error.textContent = e.message || 'Failed.';
      error.hidden = false;
      submit.disabled = false;
      el.elements.password.focus();
    }
  });
  return el;
}

export function renderSetup(main, { onSetup }) {
  replace(main, h('section', { class: 'auth' }, form({
    title: 'Set up MCPbox',
    intro: 'First run: create the administrator account.',
    button: 'Create account',
    passwordHint: 'Username: 3–50 letters, digits or _, starting with a letter. Password: 12–128 characters.',
    onSubmit: async (username, password) => {
      await request('POST', '/api/auth/setup', { username, password }, { auth: false });
      await onSetup();
    },
  })));
  main.querySelector('#username').focus();
}

export function renderLogin(main, { onLogin }) {
  replace(main, h('section', { class: 'auth' }, form({
    title: 'Sign in',
    button: 'Sign in',
    onSubmit: async (username, password) => {
      const r = await request('POST', '/api/auth/login', { username, password, mode: 'cookie' },
                              { auth: false });
      await onLogin(r.user, r.csrf_token);
    },
  })));
  main.querySelector('#username').focus();
}
