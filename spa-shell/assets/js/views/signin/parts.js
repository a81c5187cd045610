// Pieces every sign-in step screen shares: the form frame with its live message area, fields
// wired for assistive technology (label, hint, error tied with aria-describedby), the buttons
// of a step's alternatives. A step screen is a module exporting
// {title(flow), render(flow)}; `flow` (views/signin.js) carries the step, what was typed,
// the errors and the actions (submit, act, startOver).

import { t } from '../../copy.js';
import { h, uid } from '../../dom.js';
import { messageClass, messageText } from '../../signinCopy.js';
import { field } from '../../ui.js';

/** DOM id of a step field ("credentials.passcode" -> "f-credentials-passcode"). */
export function fieldId(name) {
  return `f-${String(name).replace(/[^A-Za-z0-9_-]+/g, '-')}`;
}

/** The step's messages: {global: [{kind, text}], byField: {name: text}}; see flow.errorsFor. */
export function splitMessages(step, { singleField = null } = {}) {
  const global = [];
  const byField = {};
  for (const message of Array.isArray(step.messages) ? step.messages : []) {
    const text = messageText(message);
    const cls = messageClass(message);
    const target = message.field || (cls === 'ERROR' && singleField ? singleField : null);
    if (target && cls === 'ERROR' && !byField[target]) byField[target] = text;
    else if (!target || cls !== 'ERROR') global.push({ kind: cls === 'ERROR' ? 'error' : cls === 'WARNING' ? 'warning' : 'info', text });
  }
  return { global, byField };
}

/** The live region of a step: Okta's global messages and the BFF's problems, announced. */
export function messageArea(items) {
  const errors = items.filter((m) => m.kind === 'error');
  const others = items.filter((m) => m.kind !== 'error');
  return h('div', { class: 'signin-messages', id: 'signin-messages' },
    h('div', { role: 'alert', 'aria-live': 'assertive', id: 'signin-errors', class: 'stack-tight' },
      errors.map((m) => h('p', { class: 'alert alert-error', 'data-message': '' }, m.text))),
    h('div', { role: 'status', 'aria-live': 'polite', id: 'signin-status', class: 'stack-tight' },
      others.map((m) => h('p', { class: `alert alert-${m.kind}`, 'data-message': '' }, m.text))));
}

/** A text-like field of a step (value kept in flow.values by name). */
export function stepField(flow, { name, label, type = 'text', hint = null, autocomplete, inputmode,
  required = true, maxlength, id = null }) {
  const node = field({
    name: id || fieldId(name).slice(2), label, type, hint, autocomplete, inputmode, required, maxlength,
    value: flow.values[name] ?? '', error: flow.errorFor(name),
    onInput: (e) => { flow.values[name] = e.target.value; flow.clearError(name); },
  });
  return node;
}

/** A checkbox field (rememberMe, revokeSessions). */
export function checkField(flow, { name, label }) {
  const id = fieldId(name);
  return h('div', { class: 'field field-check', 'data-field': name },
    h('div', { class: 'check' },
      h('input', {
        type: 'checkbox', id, name, checked: flow.values[name] === true,
        on: { change: (e) => { flow.values[name] = e.target.checked; } },
      }),
      h('label', { for: id }, label)));
}

export function submitButton(flow, label, { id = 'signin-submit' } = {}) {
  return h('button', {
    class: 'btn btn-primary btn-block', type: 'submit', id,
    'aria-busy': flow.busy === 'submit' ? 'true' : null, disabled: Boolean(flow.busy),
  }, flow.busy === 'submit' ? t('signin:embedded.working') : label);
}

/** <form> of a step: Enter submits; `onSubmit` returns the values to post (or null). */
export function stepForm(flow, remediation, children, onSubmit) {
  return h('form', {
    class: 'stack', novalidate: true, id: 'signin-form', 'data-step': remediation,
    on: {
      submit: (event) => {
        event.preventDefault();
        if (flow.busy) return;
        const values = onSubmit();
        if (values) flow.submit(remediation, values);
      },
    },
  }, children);
}

/** The one-time-code form (email, SMS, voice, TOTP, and the TOTP enrollment's check): spaces
 *  typed or pasted are dropped; an empty code is refused before anything is sent. */
export function codeForm(flow, remediation, hint) {
  const name = 'credentials.passcode';
  return stepForm(flow, remediation, [
    stepField(flow, {
      name, id: 'code', label: t('signin:field.code.label'), hint,
      autocomplete: 'one-time-code', inputmode: 'numeric', maxlength: 12,
    }),
    submitButton(flow, t('signin:action.verify')),
  ], () => {
    const code = String(flow.values[name] || '').replace(/\s+/g, '');
    if (!code) {
      flow.setError(name, t('signin:error.code.required'));
      return null;
    }
    return { [name]: code };
  });
}

export function actionButton(flow, label, onClick, { id, kind = 'ghost' } = {}) {
  return h('button', {
    class: `btn btn-${kind}`, type: 'button', id, disabled: Boolean(flow.busy),
    'aria-busy': flow.busy === id ? 'true' : null, on: { click: onClick },
  }, label);
}

export function lead(text, attrs = {}) {
  return h('p', { class: 'lead', ...attrs }, text);
}

export function describedBy() {
  return uid('desc');
}

/** One button per IdP Okta offers (redirect-idp): the BFF answers a `redirect` step. */
export function idpButtons(flow, { prompt = true } = {}) {
  const idps = Array.isArray(flow.step.idps) ? flow.step.idps : [];
  if (!idps.length) return null;
  return h('div', { class: 'stack idp-list', id: 'signin-idps' },
    prompt ? h('p', { class: 'divider-text' }, t('signin:idp.prompt')) : null,
    idps.map((idp) => h('button', {
      type: 'button', class: 'btn btn-secondary btn-block', 'data-idp': idp.id, disabled: Boolean(flow.busy),
      on: { click: () => flow.submit('redirect-idp', { idp: idp.id }, { busy: `idp-${idp.id}` }) },
    }, t('signin:idp.button', { name: idp.name || idp.id }))));
}
