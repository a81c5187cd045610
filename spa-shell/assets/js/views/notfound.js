import { t } from '../copy.js';
import { h } from '../dom.js';
import { pageHeading } from '../ui.js';

export default {
  journeys: () => [],
  title: () => t('common:error.notFound'),
  render: () => h('div', { class: 'stack narrow' },
    pageHeading(t('common:error.notFound')),
    h('p', {}, h('a', { href: '/' }, t('common:nav.home')))),
};
