// A one-time code: the email authenticator (with the magic-link hint), SMS or voice
// (phone_number) and TOTP apps (google_otp). autocomplete=one-time-code, digits only on
// mobile keyboards; "Send a new code" (resend) after a cool-down so a double click does not
// send two emails (the countdown is updated in place by views/signin.js, not by re-rendering).

import { t } from '../../copy.js';
import { h } from '../../dom.js';
import { codeForm } from './parts.js';

export const RESEND_COOLDOWN_S = 30;

function kind(step) {
  const auth = step.authenticator || {};
  if (auth.key === 'okta_email') return 'email';
  if (auth.key === 'phone_number') {
    const methods = Array.isArray(auth.methods) ? auth.methods : [];
    return methods.some((m) => (m && m.type ? m.type : m) === 'voice') && !methods.some((m) => (m && m.type ? m.type : m) === 'sms')
      ? 'voice' : 'sms';
  }
  return 'totp';
}

export function title(flow) {
  return t(`signin:step.${kind(flow.step)}.title`);
}

function where(step) {
  const profile = (step.authenticator && step.authenticator.profile) || {};
  return profile.email || profile.phoneNumber || '';
}

/** "Send a new code" or "Send a new code in 12 s" (also used by the countdown). */
export function resendLabel(secondsLeft) {
  return secondsLeft > 0 ? t('signin:action.resendIn', { seconds: secondsLeft }) : t('signin:action.resend');
}

export function render(flow) {
  const step = flow.step;
  const which = kind(step);
  const target = where(step);
  const body = which === 'totp' ? t('signin:step.totp.body')
    : target ? t(`signin:step.${which}.body`, { email: target, phone: target })
      : t(`signin:step.${which}.bodyNoTarget`);
  const auth = step.authenticator || {};
  const left = flow.resendSecondsLeft();
  const form = codeForm(flow, step.step, t('signin:field.code.hint'));
  return [
    h('p', { class: 'lead', id: 'signin-code-where' }, body),
    form,
    which === 'email' ? h('p', { class: 'muted', id: 'signin-magic-link' }, t('signin:step.email.link')) : null,
    auth.resend ? h('div', { class: 'actions signin-links' },
      h('button', {
        type: 'button', class: 'btn btn-ghost', id: 'signin-resend', disabled: Boolean(flow.busy) || left > 0,
        'aria-busy': flow.busy === 'resend' ? 'true' : null,
        on: { click: () => flow.act('resend') },
      }, resendLabel(left))) : null,
  ];
}
