// For content authors: the welcome and under-review emails as the welcome-email worker
// renders them, and the account notices (locked, password changed, new sign-in method) as the
// account-notices worker does, with the copy of the current locale (draft copy while preview is on).

import { t } from '../copy.js';
import { h } from '../dom.js';
import { isContentAuthor } from '../session.js';
import { alertBox, pageHeading } from '../ui.js';

function email(kind, firstName) {
  const p = { firstName };
  const rows = kind === 'welcome'
    ? [
      h('p', { class: 'muted' }, t('email:welcome.preheader')),
      h('h3', {}, t('email:welcome.heading', p)),
      h('p', {}, t('email:welcome.body')),
      h('p', {}, h('span', { class: 'btn btn-primary', role: 'presentation' }, t('email:welcome.cta'))),
      h('p', { class: 'muted' }, t('email:welcome.expiry')),
      h('p', { class: 'muted' }, t('email:welcome.ignore')),
      h('p', {}, t('email:welcome.signature')),
    ]
    : [
      h('h3', {}, t('email:review.heading', p)),
      h('p', {}, t('email:review.body')),
      h('p', {}, t('email:welcome.signature')),
    ];
  return h('article', { class: 'card stack', 'aria-labelledby': `email-${kind}` },
    h('h2', { id: `email-${kind}` }, t(kind === 'welcome' ? 'email:welcome.subject' : 'email:review.subject', p)),
    ...rows,
    h('p', { class: 'hint' }, t('email:footer.reason')));
}

function notice(kind, firstName) {
  const p = { firstName };
  return h('article', { class: 'card stack', 'aria-labelledby': `email-${kind}` },
    h('h2', { id: `email-${kind}` }, t(`email:${kind}.subject`, p)),
    h('p', { class: 'muted' }, t(`email:${kind}.preheader`)),
    h('h3', {}, t(`email:${kind}.heading`, p)),
    h('p', {}, t(`email:${kind}.body`)),
    h('p', {}, h('span', { class: 'btn btn-primary', role: 'presentation' }, t(`email:${kind}.cta`))),
    h('p', { class: 'muted' }, t(`email:${kind}.ignore`)),
    h('p', {}, t('email:welcome.signature')),
    h('p', { class: 'hint' }, t('email:notice.footer')));
}

export default {
  journeys: () => ['email'],
  title: () => t('email:welcome.subject', { firstName: '' }).trim(),
  render(ctx) {
    if (!isContentAuthor(ctx.user, ctx.settings.previewGroup)) {
      return h('div', { class: 'stack narrow' }, pageHeading(t('common:app.name')),
        alertBox('error', t('common:preview.forbidden')));
    }
    const firstName = (ctx.user.name || '').split(' ')[0] || ctx.user.email;
    return h('div', { class: 'stack narrow' },
      pageHeading(t('common:preview.banner')),
      email('welcome', firstName),
      email('review', firstName),
      ...['locked', 'passwordChanged', 'factorAdded'].map((kind) => notice(kind, firstName)));
  },
};
