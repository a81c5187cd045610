// A new password: reenroll-authenticator (expired), reset-authenticator (forgotten) or a
// password enrollment. The policy's rules (authenticator.settings.complexity) are listed and
// ticked off live as the user types; the password is checked against them and against the
// confirmation before it is sent (Okta stays the judge: its answer wins).

import { t } from '../../copy.js';
import { h } from '../../dom.js';
import { checkField, stepField, stepForm, submitButton } from './parts.js';

export function title(flow) {
  return t(flow.step.step === 'reenroll-authenticator' ? 'signin:step.expired.title' : 'signin:step.newPassword.title');
}

const SYMBOL = /[^\p{L}\p{N}\s]/u;

/** [{id, text, ok(password)}] for the policy's complexity rules. */
export function rules(settings, identifier) {
  const c = (settings && settings.complexity) || {};
  const out = [];
  const count = (re) => (p) => (p.match(re) || []).length;
  const add = (id, n, text, ok) => { if (n) out.push({ id, text, ok }); };
  add('minLength', c.minLength, t('signin:password.rule.minLength', { n: c.minLength }), (p) => [...p].length >= c.minLength);
  add('minLowerCase', c.minLowerCase, t('signin:password.rule.minLowerCase', { n: c.minLowerCase }), (p) => count(/\p{Ll}/gu)(p) >= c.minLowerCase);
  add('minUpperCase', c.minUpperCase, t('signin:password.rule.minUpperCase', { n: c.minUpperCase }), (p) => count(/\p{Lu}/gu)(p) >= c.minUpperCase);
  add('minNumber', c.minNumber, t('signin:password.rule.minNumber', { n: c.minNumber }), (p) => count(/\p{Nd}/gu)(p) >= c.minNumber);
  add('minSymbol', c.minSymbol, t('signin:password.rule.minSymbol', { n: c.minSymbol }), (p) => [...p].filter((ch) => SYMBOL.test(ch)).length >= c.minSymbol);
  const local = (identifier || '').split('@')[0].toLowerCase();
  add('excludeUsername', c.excludeUsername && local ? 1 : 0, t('signin:password.rule.excludeUsername'),
    (p) => p.length > 0 && !p.toLowerCase().includes(local));
  const repeats = c.maxConsecutiveRepeatingCharacters;
  add('maxConsecutiveRepeatingCharacters', repeats, t('signin:password.rule.maxRepeat', { n: repeats }), (p) => {
    let run = 0; let prev = null; let worst = 0;
    for (const ch of p) { run = ch === prev ? run + 1 : 1; prev = ch; worst = Math.max(worst, run); }
    return p.length > 0 && worst <= repeats;
  });
  return out;
}

function refreshRules(list, password) {
  for (const rule of list) {
    const item = document.getElementById(`rule-${rule.id}`);
    if (!item) continue;
    const ok = rule.ok(password);
    item.dataset.met = ok ? 'true' : 'false';
    const state = item.querySelector('.rule-state');
    if (state) state.textContent = t(ok ? 'signin:password.rule.met' : 'signin:password.rule.unmet');
  }
}

export function render(flow) {
  const step = flow.step;
  const name = 'credentials.passcode';
  const list = rules(step.authenticator && step.authenticator.settings, flow.identifier);
  const password = String(flow.values[name] || '');
  const hints = list.length ? h('div', { class: 'password-rules', id: 'password-rules' },
    h('p', { class: 'hint', id: 'password-rules-title' }, t('signin:password.rules')),
    h('ul', { class: 'plain-list', 'aria-labelledby': 'password-rules-title' }, list.map((rule) => {
      const ok = rule.ok(password);
      return h('li', { id: `rule-${rule.id}`, class: 'rule', 'data-met': ok ? 'true' : 'false' },
        h('span', { class: 'rule-icon', 'aria-hidden': 'true' }),
        h('span', {}, rule.text), ' ',
        h('span', { class: 'visually-hidden rule-state' }, t(ok ? 'signin:password.rule.met' : 'signin:password.rule.unmet')));
    }))) : null;
  const passwordField = stepField(flow, {
    name, id: 'new-password', type: 'password', label: t('signin:field.newPassword.label'),
    autocomplete: 'new-password', maxlength: 1024,
  });
  const input = passwordField.querySelector('input');
  if (input && hints) {
    input.setAttribute('aria-describedby', [input.getAttribute('aria-describedby'), 'password-rules'].filter(Boolean).join(' '));
    input.addEventListener('input', (e) => refreshRules(list, e.target.value));
  }
  const fields = new Set((step.fields || []).map((f) => f.name));
  const form = stepForm(flow, step.step, [
    flow.identifier ? h('input', {
      type: 'text', class: 'visually-hidden', name: 'username', autocomplete: 'username', value: flow.identifier,
      readonly: true, tabindex: '-1', 'aria-hidden': 'true',
    }) : null,
    passwordField,
    hints,
    stepField(flow, {
      name: 'confirm', id: 'confirm-password', type: 'password', label: t('signin:field.confirmPassword.label'),
      autocomplete: 'new-password', maxlength: 1024,
    }),
    fields.has('credentials.revokeSessions')
      ? checkField(flow, { name: 'credentials.revokeSessions', label: t('signin:field.revokeSessions.label') }) : null,
    submitButton(flow, t('signin:action.savePassword')),
  ], () => {
    const value = String(flow.values[name] || '');
    if (!value) {
      flow.setError(name, t('signin:error.password.required'));
      return null;
    }
    if (list.some((rule) => !rule.ok(value))) {
      flow.setError(name, t('signin:error.password.rules'));
      return null;
    }
    if (value !== String(flow.values.confirm || '')) {
      flow.setError('confirm', t('signin:error.password.mismatch'));
      return null;
    }
    const values = { [name]: value };
    if (fields.has('credentials.revokeSessions')) values['credentials.revokeSessions'] = flow.values['credentials.revokeSessions'] === true;
    return values;
  });
  return [
    h('p', { class: 'lead' }, t(step.step === 'reenroll-authenticator' ? 'signin:step.expired.body' : 'signin:step.newPassword.body')),
    form,
  ];
}
