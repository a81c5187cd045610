// "Choose another way": Okta asked for something these screens do not handle (Okta Verify,
// Duo, an unknown remediation). The supported alternatives are offered first; the redirect
// flow (/bff/login, Okta's own page) is the last resort, so there is never a dead end. A
// `redirect-idp` step (Okta sends the user to an IdP) offers its IdPs.

import { t } from '../../copy.js';
import { h } from '../../dom.js';
import { authenticatorName } from '../../signinCopy.js';
import { idpButtons } from './parts.js';

export function title(flow) {
  return flow.step.step === 'redirect-idp' ? t('signin:step.redirectIdp.title') : t('signin:step.unsupported.title');
}

export function render(flow) {
  const step = flow.step;
  if (step.step === 'redirect-idp') { // Okta's routing rule: the user's IdP, to choose
    return [h('p', { class: 'lead' }, t('signin:step.redirectIdp.body')), idpButtons(flow, { prompt: false })];
  }
  const what = step.unsupported ? authenticatorName(step.unsupported) : null;
  return [
    h('p', { class: 'lead', id: 'signin-unsupported' },
      what ? t('signin:step.unsupported.body', { method: what }) : t('signin:step.unsupported.bodyGeneric')),
  ];
}
