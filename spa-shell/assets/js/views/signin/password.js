// challenge-authenticator for the password: the password (autocomplete=current-password), who
// is signing in (a username field for password managers), and "Forgot password?" (recover).

import { t } from '../../copy.js';
import { h } from '../../dom.js';
import { actionButton, stepField, stepForm, submitButton } from './parts.js';

export function title() {
  return t('signin:step.password.title');
}

export function render(flow) {
  const step = flow.step;
  const name = 'credentials.passcode';
  const form = stepForm(flow, step.step, [
    flow.identifier ? h('input', {
      type: 'text', class: 'visually-hidden', name: 'username', autocomplete: 'username', value: flow.identifier,
      readonly: true, tabindex: '-1', 'aria-hidden': 'true',
    }) : null,
    stepField(flow, {
      name, id: 'password', type: 'password', label: t('signin:field.password.label'),
      autocomplete: 'current-password', maxlength: 1024,
    }),
    submitButton(flow, t('signin:embedded.submit')),
  ], () => {
    const password = String(flow.values[name] || '');
    if (!password) {
      flow.setError(name, t('signin:error.password.required'));
      return null;
    }
    return { [name]: password };
  });
  const recover = (step.alternatives || []).includes('recover')
    ? h('div', { class: 'actions signin-links' },
      actionButton(flow, t('signin:action.recover'), () => flow.act('recover'), { id: 'signin-recover' }))
    : null;
  return [
    flow.identifier ? h('p', { class: 'lead', id: 'signin-as' }, t('signin:step.password.as', { identifier: flow.identifier })) : null,
    form,
    recover,
  ];
}
