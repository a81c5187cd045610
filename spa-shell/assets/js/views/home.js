// The signed-in home: a welcome, the organisation, a nudge to complete the profile when
// fields are missing (progressive profiling), and the way into administration for admins.

import { isAdminEligible } from '../auth.js';
import { t } from '../copy.js';
import { h } from '../dom.js';
import { loadProfile } from '../profileStore.js';
import { alertBox, authErrorAlert, card, linkButton, pageHeading } from '../ui.js';

const state = { profile: null, failed: false };

export default {
  journeys: (ctx) => (ctx.flash && ctx.flash.authError ? ['profile', 'signin'] : ['profile']),
  title: () => t('profile:home.title'),
  enter(ctx) {
    state.failed = false;
    loadProfile(ctx.settings.profileFields || [])
      .then((p) => { state.profile = p; ctx.rerender(); })
      .catch(() => { state.failed = true; });
  },
  render(ctx) {
    const user = ctx.user || {};
    const name = user.name || user.email || user.login || '';
    const incomplete = state.profile && state.profile.missing.length > 0;
    return h('div', { class: 'stack' },
      pageHeading(t('profile:home.welcome', { name })),
      authErrorAlert(ctx),
      user.orgId ? h('p', { class: 'lead' }, t('profile:home.org', { org: user.orgId })) : null,
      h('div', { class: 'grid' },
        incomplete ? card(
          h('h2', {}, t('profile:title')),
          h('p', {}, t('profile:home.incomplete')),
          linkButton(t('profile:home.completeProfile'), '/profile', { id: 'complete-profile' }),
        ) : null,
        isAdminEligible(user, ctx.settings) ? card(
          h('h2', {}, t('common:nav.admin')),
          linkButton(t('profile:home.admin'), '/admin', { kind: 'secondary', id: 'go-admin' }),
        ) : null,
        incomplete ? null : card(
          h('h2', {}, t('common:nav.profile')),
          h('p', { class: 'muted' }, user.email || user.login || ''),
          state.profile ? h('dl', { class: 'details' }, ['company', 'title']
            .filter((f) => state.profile.values[f])
            .map((f) => [h('dt', {}, t(`profile:field.${f}.label`)), h('dd', {}, state.profile.values[f])])) : null,
          h('p', {}, h('a', { href: '/profile', id: 'open-profile' }, t('common:nav.profile'))),
        )),
      state.failed ? alertBox('error', t('common:error.generic')) : null);
  },
};
