// The sign-in screen of BFF_SIGNIN_MODE=redirect: copy from AEM, "Sign in" -> /bff/login (a
// full-page navigation to the BFF, then Okta's page). With IdP discovery configured, the work
// email goes along as login_hint so Okta can route the user to their company's IdP. Errors from
// the callback (auth_error=...) and session notices are shown on top.

import { loginUrl, safeReturnTo } from '../../auth.js';
import { t } from '../../copy.js';
import { h } from '../../dom.js';
import { takeSignedOutFlag } from '../../session.js';
import { field, linkButton, pageHeading } from '../../ui.js';
import { normalizeEmail } from '../../validation.js';
import { sessionNotice } from './notice.js';

const state = { email: '', error: null, submitting: false, signedOut: false };

function returnTo(ctx) {
  return safeReturnTo(ctx.route.name === 'root' ? '/' : ctx.query.get('returnTo'));
}

function submit(ctx, event) {
  event.preventDefault();
  const email = normalizeEmail(state.email || '');
  if (!state.email.trim()) state.error = 'signin:error.email.required';
  else if (!email) state.error = 'signin:error.email.invalid';
  else state.error = null;
  if (state.error) {
    ctx.rerender();
    document.getElementById('f-email')?.focus();
    return;
  }
  state.submitting = true;
  ctx.rerender();
  window.location.assign(loginUrl({ returnTo: returnTo(ctx), loginHint: email }));
}

export default {
  journeys: () => ['signin'],
  title: () => t('signin:title'),
  enter(ctx) {
    state.email = '';
    state.error = null;
    state.submitting = false;
    const reason = ctx.flash && ctx.flash.reason;
    state.signedOut = takeSignedOutFlag() || reason === 'signed-out' || reason === 'signed-out-elsewhere';
  },
  render(ctx) {
    const discovery = Boolean(ctx.settings.idpDiscovery);
    const action = discovery
      ? h('form', { class: 'stack', novalidate: true, id: 'signin-form', on: { submit: (e) => submit(ctx, e) } },
        field({
          name: 'email', type: 'email', label: t('signin:email.label'), hint: t('signin:email.hint'),
          value: state.email, autocomplete: 'username', required: true,
          error: state.error ? t(state.error) : null,
          onInput: (e) => { state.email = e.target.value; },
        }),
        h('button', { class: 'btn btn-primary btn-block', type: 'submit', id: 'signin-submit',
          'aria-busy': state.submitting ? 'true' : null },
        t(state.submitting ? 'signin:submitting' : 'signin:submit')))
      : linkButton(t('common:nav.signIn'), loginUrl({ returnTo: returnTo(ctx) }),
        { id: 'signin-button', class: 'btn btn-primary btn-block', external: true });
    return h('div', { class: 'auth-layout' },
      h('section', { class: 'card auth-card stack' },
        pageHeading(state.signedOut ? t('signin:signedOut.title') : t('signin:title')),
        sessionNotice(ctx, state.signedOut),
        h('p', { class: 'lead' }, t('signin:intro')),
        action,
        h('p', { class: 'muted' }, t('signin:signup.prompt'), ' ',
          h('a', { href: '/signup', id: 'signup-link' }, t('signin:signup.link')))));
  },
};
