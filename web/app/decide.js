// decide.js — Approve / Reject controls for one request (tool, module or
// network). Reject opens a small form in place that asks for the reason;
// its submit button is named Reject too, so the flow reads: Reject, type
// the reason, Reject.
import { h } from './dom.js';
import { api, seg } from './api.js';

/** kind: tools | modules | network. onDone(action) after a decision went through.
 *  approveBody: optional () => object sent with Approve (a tool's annotations). */
export function decisionControls({ kind, id, label, onDone, notify, approveBody }) {
  const wrap = h('div', { class: 'decision' });
  const approve = h('button', { type: 'button', class: 'primary', onclick: async () => {
    approve.disabled = true;
    try {
      await api.post(`/api/approvals/${kind}/${seg(id)}/approve`, approveBody ? approveBody() : undefined);
      notify(`${label} approved.`);
      onDone('approve');
    } catch (e) { notify(`${label}: ${e.message}`, 'error'); approve.disabled = false; }
  } }, 'Approve');
  const reasonId = `reason-${kind}-${String(id).replace(/[^\w-]/g, '_')}`;
  const reason = h('textarea', { id: reasonId, rows: '2', maxlength: '2000', required: true });
  const confirm = h('button', { type: 'submit', class: 'danger' }, 'Reject');
  const cancel = h('button', { type: 'button' }, 'Cancel');
  const form = h('form', { class: 'reject-form', hidden: true },
    h('label', { for: reasonId }, `Reason for rejecting ${label}`), reason,
    h('div', { class: 'actions' }, confirm, cancel));
  const reject = h('button', { type: 'button', class: 'danger', 'aria-expanded': 'false',
    onclick: () => {
      form.hidden = false; reject.hidden = true;
      reject.setAttribute('aria-expanded', 'true');
      reason.focus();
    } }, 'Reject');
  cancel.addEventListener('click', () => {
    form.hidden = true; reject.hidden = false;
    reject.setAttribute('aria-expanded', 'false');
    reject.focus();
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const text = reason.value.trim();
    if (!text) { notify('A reason is required to reject.', 'error'); reason.focus(); return; }
    confirm.disabled = true;
    try {
      await api.post(`/api/approvals/${kind}/${seg(id)}/reject`, { reason: text });
      notify(`${label} rejected.`);
      onDone('reject');
    } catch (e) { notify(`${label}: ${e.message}`, 'error'); confirm.disabled = false; }
  });
  wrap.append(approve, reject, form);
  return wrap;
}
