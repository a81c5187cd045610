// Progressive profiling: GET /bff/profile shows the configured optional fields with what the
// user already gave; POST /bff/profile sends only the changed ones (a partial Okta update).

import { ApiError } from '../api.js';
import { has, locales, t, tFirst } from '../copy.js';
import { announce, h } from '../dom.js';
import { cachedProfile, loadProfile, saveProfile } from '../profileStore.js';
import { alertBox, errorSummary, field, linkButton, pageHeading, spinner } from '../ui.js';
import { checkProfileValue } from '../validation.js';

const AUTOCOMPLETE = {
  company: 'organization', title: 'organization-title', mobilePhone: 'tel', primaryPhone: 'tel',
  preferredLanguage: 'language', firstName: 'given-name', lastName: 'family-name', countryCode: 'country',
};

const state = {
  loading: false,
  loadFailed: false,
  values: {},
  original: {},
  errors: [],
  formError: null,
  saving: false,
  saved: false,
  focus: null,
};

function fieldsOf(ctx) {
  const profile = cachedProfile();
  return profile ? profile.fields : ctx.settings.profileFields || [];
}

function message(name, code) {
  return tFirst([`profile:${code}`, `profile:error.${name}.invalid`, 'profile:error.saveFailed']);
}

function load(ctx, fresh) {
  state.loading = true;
  state.loadFailed = false;
  loadProfile(ctx.settings.profileFields || [], { fresh })
    .then((profile) => {
      state.original = { ...profile.values };
      state.values = { ...profile.values };
    })
    .catch((err) => {
      if (!(err instanceof ApiError && err.status === 401)) state.loadFailed = true;
    })
    .finally(() => {
      state.loading = false;
      ctx.rerender();
    });
}

async function submit(ctx, event) {
  event.preventDefault();
  if (state.saving) return;
  const codes = locales().map((l) => l.code);
  const changes = {};
  state.errors = [];
  state.formError = null;
  state.saved = false;
  for (const name of fieldsOf(ctx)) {
    const value = state.values[name] ?? '';
    const before = state.original[name] ?? '';
    if (value === before) continue;
    const reason = checkProfileValue(name, value, codes);
    if (reason) state.errors.push({ field: name, code: `error.${name}.${reason}` });
    changes[name] = typeof value === 'string' && value.trim() === '' ? null : value;
  }
  if (state.errors.length) {
    state.focus = 'error-summary';
    ctx.rerender();
    return;
  }
  if (Object.keys(changes).length === 0) {
    state.saved = true;
    state.focus = 'profile-status';
    ctx.rerender();
    return;
  }
  state.saving = true;
  ctx.rerender();
  try {
    const profile = await saveProfile(changes, ctx.settings.profileFields || []);
    if (profile) {
      state.original = { ...profile.values };
      state.values = { ...profile.values };
    } else {
      state.original = { ...state.original, ...changes };
    }
    state.saved = true;
    state.focus = 'profile-status';
    announce(t('profile:saved'));
  } catch (err) {
    if (err instanceof ApiError && err.errors.length) {
      state.errors = err.errors.filter((e) => e && typeof e.field === 'string' && typeof e.code === 'string');
    } else if (err instanceof ApiError && err.status === 0) {
      state.formError = 'common:error.network';
    } else if (!(err instanceof ApiError && err.status === 401)) {
      state.formError = 'profile:error.saveFailed';
    }
    state.focus = 'error-summary';
  } finally {
    state.saving = false;
  }
  ctx.rerender();
}

function control(name, ctx) {
  const errorEntry = state.errors.find((e) => e.field === name);
  const common = {
    name,
    label: t(`profile:field.${name}.label`),
    hint: has(`profile:field.${name}.hint`) ? t(`profile:field.${name}.hint`) : null,
    value: state.values[name] ?? '',
    error: errorEntry ? message(name, errorEntry.code) : null,
    autocomplete: AUTOCOMPLETE[name],
    onInput: (e) => { state.values[name] = e.target.value; state.saved = false; },
  };
  if (name === 'preferredLanguage' || name === 'locale') {
    const options = [{ value: '', label: '—' }, ...locales().map((l) => ({
      value: l.code, label: has(`common:locale.${l.code}`) ? t(`common:locale.${l.code}`) : l.name,
    }))];
    return field({ ...common, options });
  }
  const type = name === 'mobilePhone' || name === 'primaryPhone' ? 'tel' : 'text';
  return field({ ...common, type, inputmode: type === 'tel' ? 'tel' : null });
}

export default {
  journeys: () => ['profile'],
  title: () => t('profile:title'),
  enter(ctx) {
    state.errors = [];
    state.formError = null;
    state.saved = false;
    const cached = cachedProfile();
    if (cached) {
      state.original = { ...cached.values };
      state.values = { ...cached.values };
    }
    load(ctx, true);
  },
  render(ctx) {
    if (state.focus) {
      const id = state.focus;
      state.focus = null;
      queueMicrotask(() => document.getElementById(id)?.focus());
    }
    const ready = cachedProfile() !== null;
    const summary = state.errors.map((e) => ({ field: e.field, message: message(e.field, e.code) }));
    return h('div', { class: 'stack narrow' },
      pageHeading(t('profile:title')),
      h('p', { class: 'lead' }, t('profile:intro')),
      state.loadFailed ? alertBox('error', t('common:error.generic')) : null,
      !ready && state.loading ? spinner(t('common:status.loading')) : null,
      summary.length ? errorSummary(t('profile:error.saveFailed'), summary) : null,
      state.formError ? h('div', { id: 'error-summary', tabindex: '-1' }, alertBox('error', t(state.formError))) : null,
      state.saved ? h('div', { id: 'profile-status', tabindex: '-1' }, alertBox('success', t('profile:saved'))) : null,
      ready ? h('form', { class: 'card stack', id: 'profile-form', novalidate: true, on: { submit: (e) => submit(ctx, e) } },
        fieldsOf(ctx).map((name) => control(name, ctx)),
        h('div', { class: 'actions' },
          h('button', { class: 'btn btn-primary', type: 'submit', id: 'profile-save',
            'aria-busy': state.saving ? 'true' : null, disabled: state.saving },
          t(state.saving ? 'profile:saving' : 'profile:save')),
          linkButton(t('profile:skip'), '/', { kind: 'ghost' }))) : null);
  },
};
