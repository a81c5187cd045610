// What the sign-in screen says on top, in either mode: the callback's error (auth_error=...),
// "you have signed out", "your session has ended" (ended elsewhere: an admin, Okta), or "your
// session expired".

import { t, tFirst } from '../../copy.js';
import { h } from '../../dom.js';
import { alertBox } from '../../ui.js';

export function sessionNotice(ctx, signedOut) {
  const flash = ctx.flash || {};
  if (flash.authError) {
    return alertBox('error', tFirst([`signin:error.${flash.authError}`, 'signin:error.unknown']));
  }
  if (signedOut) return alertBox('info', t('signin:signedOut.body'));
  if (flash.reason === 'session-ended') {
    return alertBox('warning', h('strong', {}, t('common:session.ended.title')), ' ',
      t('common:session.ended.body'));
  }
  if (flash.reason === 'expired') {
    return alertBox('warning', h('strong', {}, t('common:session.expired.title')), ' ',
      t('common:session.expired.body'));
  }
  return null;
}
