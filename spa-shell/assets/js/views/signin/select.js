// select-authenticator-authenticate / -enroll / -unlock-account: one button per supported
// choice (and per method, for a phone that can take an SMS or a call). Unlock also asks for
// the account's identifier, a phone enrollment for the number. When Okta's first choice is
// one the BFF left out (Okta Verify, Duo...), the step says so: "choose another way", the
// redirect flow being the last resort.

import { t } from '../../copy.js';
import { h } from '../../dom.js';
import { authenticatorName, methodName } from '../../signinCopy.js';
import { stepField } from './parts.js';

function variant(step) {
  if (step.step === 'select-authenticator-enroll') return 'enroll';
  if (step.step === 'select-authenticator-unlock-account') return 'unlock';
  return 'authenticate';
}

export function title(flow) {
  if (flow.step.unsupported) return t('signin:step.unsupported.title');
  return t(`signin:step.select.${variant(flow.step)}.title`);
}

function methodsOf(choice) {
  const methods = (Array.isArray(choice.methodTypes) ? choice.methodTypes : [])
    .map((m) => (m && typeof m === 'object' ? m.type : m)).filter((m) => typeof m === 'string');
  return methods;
}

function described(choice) {
  const profile = choice.profile || {};
  return profile.email || profile.phoneNumber || null;
}

export function render(flow) {
  const step = flow.step;
  const which = variant(step);
  const choices = Array.isArray(step.choices) ? step.choices : [];
  const fieldNames = new Set((step.fields || []).map((f) => f.name));
  const needsIdentifier = fieldNames.has('identifier');
  const buttons = [];
  for (const choice of choices) {
    const methods = methodsOf(choice);
    const perMethod = fieldNames.has('authenticator.methodType') && methods.length > 1;
    for (const method of perMethod ? methods : [null]) {
      const label = perMethod ? `${authenticatorName(choice.key)} · ${methodName(method)}` : authenticatorName(choice.key);
      const detail = described(choice);
      buttons.push(h('li', {},
        h('button', {
          type: 'button', class: 'btn btn-secondary btn-block choice', disabled: Boolean(flow.busy),
          'data-choice': choice.key || '', 'data-method': method || null,
          'aria-busy': flow.busy === `choice-${choice.id}-${method}` ? 'true' : null,
          on: {
            click: () => {
              const values = { 'authenticator.id': choice.id };
              if (choice.enrollmentId && fieldNames.has('authenticator.enrollmentId')) values['authenticator.enrollmentId'] = choice.enrollmentId;
              if (method) values['authenticator.methodType'] = method;
              if (choice.key === 'phone_number' && fieldNames.has('authenticator.phoneNumber')) {
                const phone = String(flow.values['authenticator.phoneNumber'] || '').trim();
                if (!phone) {
                  flow.setError('authenticator.phoneNumber', t('signin:error.phone.required'));
                  return;
                }
                values['authenticator.phoneNumber'] = phone;
              }
              if (needsIdentifier) {
                const identifier = String(flow.values.identifier || flow.identifier || '').trim();
                if (!identifier) {
                  flow.setError('identifier', t('signin:error.email.required'));
                  return;
                }
                values.identifier = identifier;
                flow.rememberIdentifier(identifier);
              }
              flow.submit(step.step, values, { busy: `choice-${choice.id}-${method}` });
            },
          },
        }, h('span', { class: 'choice-name' }, label), detail ? h('span', { class: 'choice-detail' }, detail) : null)));
    }
  }
  if (needsIdentifier && flow.values.identifier === undefined) flow.values.identifier = flow.identifier || '';
  return [
    step.unsupported ? h('p', { class: 'alert alert-info', id: 'signin-unsupported' },
      t('signin:step.unsupported.choose', { method: authenticatorName(step.unsupported) })) : null,
    h('p', { class: 'lead' }, t(`signin:step.select.${which}.body`)),
    needsIdentifier ? stepField(flow, {
      name: 'identifier', id: 'identifier', type: 'email', label: t('signin:email.label'), autocomplete: 'username',
      maxlength: 256,
    }) : null,
    fieldNames.has('authenticator.phoneNumber') && choices.some((c) => c.key === 'phone_number') ? stepField(flow, {
      name: 'authenticator.phoneNumber', id: 'phone-number', type: 'tel', label: t('signin:field.authenticator.phoneNumber.label'),
      hint: t('signin:field.phoneNumber.hint'), autocomplete: 'tel', required: false, maxlength: 32,
    }) : null,
    h('ul', { class: 'plain-list stack-tight', id: 'signin-choices' }, buttons),
  ];
}
