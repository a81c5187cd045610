// identify (and identify-recovery): who is signing in. The work email (autocomplete=username),
// "keep me signed in" when Okta offers rememberMe, the company IdPs Okta lists (each a
// redirect-idp button), and the ways out: forgotten password, unlock, sign-up.

import { t } from '../../copy.js';
import { h } from '../../dom.js';
import {
  actionButton, checkField, idpButtons, stepField, stepForm, submitButton,
} from './parts.js';

export function title(flow) {
  if (flow.step.step === 'identify-recovery') return t('signin:step.recovery.title');
  if (flow.scope) return t('signin:stepup.title');
  return t(flow.signedOut ? 'signin:signedOut.title' : 'signin:title');
}

export function render(flow) {
  const step = flow.step;
  const names = new Set((step.fields || []).map((f) => f.name));
  const recovery = step.step === 'identify-recovery';
  const form = stepForm(flow, step.step, [
    stepField(flow, {
      name: 'identifier', id: 'identifier', type: 'email', label: t('signin:email.label'),
      hint: t('signin:email.hint'), autocomplete: 'username', maxlength: 256,
    }),
    names.has('rememberMe') ? checkField(flow, { name: 'rememberMe', label: t('signin:field.rememberMe.label') }) : null,
    submitButton(flow, t(recovery ? 'signin:action.sendRecovery' : 'signin:submit')),
  ], () => {
    const identifier = String(flow.values.identifier || '').trim();
    if (!identifier) {
      flow.setError('identifier', t('signin:error.email.required'));
      return null;
    }
    flow.rememberIdentifier(identifier);
    const values = { identifier };
    if (names.has('rememberMe')) values.rememberMe = flow.values.rememberMe === true;
    return values;
  });
  const alternatives = new Set(step.alternatives || []);
  const links = [];
  if (alternatives.has('identify-recovery') && !recovery) {
    links.push(actionButton(flow, t('signin:action.recover'), () => flow.act('identify-recovery'), { id: 'signin-recover' }));
  }
  if (alternatives.has('unlock-account')) {
    links.push(actionButton(flow, t('signin:action.unlock'), () => flow.act('unlock-account'), { id: 'signin-unlock' }));
  }
  // Sign-up: Okta's profile enrollment when its policy offers it here (docs/signup.md), else
  // the product's own sign-up screen.
  const signup = alternatives.has('select-enroll-profile')
    ? h('a', {
      href: '/signup', id: 'signup-link',
      on: { click: (event) => { event.preventDefault(); if (!flow.busy) flow.act('select-enroll-profile'); } },
    }, t('signin:signup.link'))
    : h('a', { href: '/signup', id: 'signup-link' }, t('signin:signup.link'));
  return [
    recovery ? h('p', { class: 'lead' }, t('signin:step.recovery.body')) : h('p', { class: 'lead' }, t(flow.scope ? 'signin:stepup.body' : 'signin:intro')),
    form,
    idpButtons(flow),
    links.length ? h('div', { class: 'actions signin-links' }, links) : null,
    flow.scope ? null : h('p', { class: 'muted' }, t('signin:signup.prompt'), ' ', signup),
  ];
}
