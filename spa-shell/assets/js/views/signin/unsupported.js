// "Choose another way": Okta asked for something these screens do not handle (Okta Verify,
// Duo, an unknown remediation). The supported alternatives are offered first; the redirect
// flow (/bff/login, Okta's own page) is the last resort, so there is never a dead end.

import { t } from '../../copy.js';
import { h } from '../../dom.js';
import { authenticatorName } from '../../signinCopy.js';

export function title() {
  return t('signin:step.unsupported.title');
}

export function render(flow) {
  const step = flow.step;
  const what = step.unsupported ? authenticatorName(step.unsupported) : null;
  return [
    h('p', { class: 'lead', id: 'signin-unsupported' },
      what ? t('signin:step.unsupported.body', { method: what }) : t('signin:step.unsupported.bodyGeneric')),
  ];
}
