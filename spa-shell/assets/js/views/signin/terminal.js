// The end of a sign-in that did not sign the user in: a suspended account, access denied,
// an expired transaction, or a notice (an unlocked account). Okta's messages by key, in the
// user's language, and "start again".

import { t } from '../../copy.js';
import { h } from '../../dom.js';
import { messageClass, messageText } from '../../signinCopy.js';
import { actionButton } from './parts.js';

function onlyInfo(step) {
  const messages = Array.isArray(step.messages) ? step.messages : [];
  return messages.length > 0 && messages.every((m) => messageClass(m) !== 'ERROR');
}

export function title(flow) {
  return t(onlyInfo(flow.step) ? 'signin:step.notice.title' : 'signin:step.terminal.title');
}

export function render(flow) {
  const step = flow.step;
  const messages = Array.isArray(step.messages) && step.messages.length ? step.messages : [{ key: null, class: 'ERROR' }];
  const info = onlyInfo(step);
  return [
    h('div', { id: 'signin-terminal', role: info ? 'status' : 'alert', class: 'stack-tight' },
      messages.map((m) => h('p', { class: `alert alert-${messageClass(m) === 'ERROR' ? 'error' : 'info'}`, 'data-message': '' },
        messageText(m)))),
    h('div', { class: 'actions' },
      actionButton(flow, t(info ? 'signin:action.signIn' : 'signin:action.startAgain'), () => flow.startOver(),
        { id: 'signin-start-again', kind: 'primary' })),
  ];
}
