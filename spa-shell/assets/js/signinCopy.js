// Words for the sign-in steps. Okta's messages arrive by i18n key only (never Okta's English
// text): `okta.<key>` in the signin journey, else the generic sentence of the message's class
// (`okta.generic.ERROR|WARNING|INFO`). Problems of the BFF's own (rate limits, a step another
// tab finished) and the field codes of a refused submission have keys of their own.

import { has, t, tFirst } from './copy.js';

const CLASSES = new Set(['ERROR', 'WARNING', 'INFO']);

export function messageClass(message) {
  return message && CLASSES.has(message.class) ? message.class : 'ERROR';
}

/** A step message {key, class, params?} in the user's language. */
export function messageText(message) {
  const cls = messageClass(message);
  const key = message && typeof message.key === 'string' ? message.key : null;
  const params = {};
  (Array.isArray(message && message.params) ? message.params : []).forEach((value, i) => {
    params[i] = value;
  });
  if (key && has(`signin:okta.${key}`)) return t(`signin:okta.${key}`, params);
  return t(`signin:okta.generic.${cls}`);
}

/** A refused field (`{field, code}` of invalid_submission). */
export function fieldCodeText(code) {
  return tFirst([`signin:error.field.${code}`, 'signin:error.field.invalid']);
}

/** The sentence for a problem answer (ApiError) of /bff/signin. */
export function problemText(err) {
  if (!err || err.status === 0) return t('common:error.network');
  if (err.status === 429) return tFirst([`signin:error.${err.code}`, 'signin:error.signin_rate_limited']);
  if (err.status >= 500) return t('signin:error.temporarily_unavailable');
  return tFirst([`signin:error.${err.code}`, 'signin:error.unknown']);
}

/** An authenticator's name by key (never Okta's label). */
export function authenticatorName(key) {
  return tFirst([`signin:authenticator.${key}`, 'signin:authenticator.other']);
}

/** A method of a choice (sms, voice, email, otp...). */
export function methodName(method) {
  return tFirst([`signin:method.${method}`, 'signin:authenticator.other']);
}
