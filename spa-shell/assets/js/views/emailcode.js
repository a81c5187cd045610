// Where Okta's email magic link lands when it is opened in another browser (or after its
// sign-in ended): the BFF redirects here with the code in the URL fragment (#code=123456,
// never sent to a server), and the screen shows it to type in the tab that started signing in
// (Okta's "return to the original tab"). Never an error page.

import { t } from '../copy.js';
import { h } from '../dom.js';
import { pageHeading } from '../ui.js';

function codeFromFragment() {
  const match = /(?:^#|&)code=(\d{4,10})(?:&|$)/.exec(window.location.hash || '');
  return match ? match[1] : null;
}

export default {
  journeys: () => ['signin'],
  title: () => t('signin:emailCode.title'),
  render() {
    const code = codeFromFragment();
    return h('div', { class: 'auth-layout' },
      h('section', { class: 'card auth-card stack' },
        pageHeading(t('signin:emailCode.title')),
        code
          ? h('p', { id: 'email-code' }, t('signin:emailCode.body', { code }))
          : h('p', {}, t('signin:emailCode.none'))));
  },
};
