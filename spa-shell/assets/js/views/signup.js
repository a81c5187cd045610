// Self-service sign-up: POST /bff/signup (JSON, CSRF header). The form asks only for what the
// server requires (organisation or invitation code, password by configuration), checks it
// the way the server does before sending, shows the server's field errors next to the fields
// (codes are keys of the signup copy), and ends in an unmistakable success state.

import { ApiError, postJSON } from '../api.js';
import { currentLocale, has, t, tFirst } from '../copy.js';
import { announce, h } from '../dom.js';
import { takeKeptInvitation } from '../invitation.js';
import { alertBox, errorSummary, field, linkButton, pageHeading } from '../ui.js';
import { validateSignup } from '../validation.js';

// Display order; which of them exist comes from the server's form description.
const FIELD_ORDER = ['firstName', 'lastName', 'email', 'company', 'invitationCode', 'password', 'terms'];
const AUTOCOMPLETE = {
  firstName: 'given-name', lastName: 'family-name', email: 'email', company: 'organization',
  invitationCode: 'one-time-code', password: 'new-password',
};

const state = {
  values: {},
  errors: [], // [{field, code}]
  formError: null, // copy ref
  submitting: false,
  done: null, // {email, review}
  focusSummary: false,
  focusSuccess: false,
};

function describedForm(settings) {
  return settings.signupForm || { fields: ['email', 'firstName', 'lastName', 'terms'], required: ['email', 'firstName', 'lastName'] };
}

function visibleFields(settings) {
  const fields = describedForm(settings).fields || [];
  return FIELD_ORDER.filter((name) => fields.includes(name));
}

function message(code) {
  // Server codes look like "error.email.taken"; unknown ones fall back to a generic sentence.
  const [, fieldName] = code.split('.');
  return tFirst([`signup:${code}`, `signup:error.${fieldName}.invalid`, 'signup:error.failed']);
}

const label = (name) => t(`signup:field.${name}.label`);

function checkbox(name, text, error) {
  const errorId = error ? `f-${name}-error` : null;
  return h('div', { class: `field field-check${error ? ' field-invalid' : ''}`, 'data-field': name },
    error ? h('p', { class: 'field-error', id: errorId }, error) : null,
    h('div', { class: 'check' },
      h('input', {
        type: 'checkbox', id: `f-${name}`, name, checked: state.values[name] === true, required: true,
        'aria-invalid': error ? 'true' : null, 'aria-describedby': errorId,
        on: { change: (e) => { state.values[name] = e.target.checked; } },
      }),
      h('label', { for: `f-${name}` }, text)));
}

async function submit(ctx, event) {
  event.preventDefault();
  if (state.submitting) return;
  const form = describedForm(ctx.settings);
  const fields = visibleFields(ctx.settings);
  state.formError = null;
  state.errors = validateSignup(state.values, form).filter((e) => fields.includes(e.field));
  if (state.errors.length) {
    state.focusSummary = true;
    ctx.rerender();
    return;
  }
  const body = { locale: currentLocale() };
  for (const name of fields) {
    const value = state.values[name];
    if (name === 'terms') body.terms = value === true;
    else if (name === 'password') { if (value) body.password = value; }
    else if (typeof value === 'string' && value.trim()) body[name] = value.trim();
  }
  state.submitting = true;
  ctx.rerender();
  try {
    const result = await postJSON('/bff/signup', body, { on401: 'throw' });
    state.done = {
      email: (result && result.login) || body.email,
      canSignIn: Boolean(result && result.next === 'signIn'),
    };
    state.values = {};
    state.focusSuccess = true;
    announce(t('signup:success.title'));
  } catch (err) {
    if (err instanceof ApiError && err.errors.length) {
      state.errors = err.errors
        .filter((e) => e && typeof e.field === 'string' && typeof e.code === 'string')
        .map((e) => ({ field: fields.includes(e.field) ? e.field : 'form', code: e.code }));
      state.formError = state.errors.some((e) => e.field === 'form') ? 'signup:error.failed' : null;
    } else if (err instanceof ApiError && err.status === 429) {
      state.formError = 'signup:error.tooMany';
    } else if (err instanceof ApiError && err.status === 0) {
      state.formError = 'common:error.network';
    } else {
      state.formError = 'signup:error.failed';
    }
    state.focusSummary = true;
  } finally {
    state.submitting = false;
  }
  ctx.rerender();
}

function renderSuccess() {
  return h('div', { class: 'auth-layout' },
    h('section', { class: 'card auth-card stack success-panel', id: 'signup-success' },
      h('div', { class: 'success-icon', 'aria-hidden': 'true' }, '✓'),
      pageHeading(t('signup:success.title')),
      h('p', { class: 'lead', id: 'signup-success-body' }, t('signup:success.body', { email: state.done.email })),
      h('p', {}, t('signup:success.review', { email: state.done.email })),
      h('p', { class: 'muted' }, t('signup:success.notReceived')),
      linkButton(t('signup:success.signin'), '/signin', { id: 'signup-signin' })));
}

export default {
  journeys: () => ['signup'],
  title: () => t(state.done ? 'signup:success.title' : 'signup:title'),
  enter() {
    state.values = {};
    const invitation = takeKeptInvitation(); // from /signin?invitation=<code> (redirect mode)
    if (invitation) state.values.invitationCode = invitation;
    state.errors = [];
    state.formError = null;
    state.submitting = false;
    state.done = null;
  },
  render(ctx) {
    if (state.done) {
      if (state.focusSuccess) {
        state.focusSuccess = false;
        queueMicrotask(() => document.querySelector('#signup-success [data-autofocus]')?.focus());
      }
      return renderSuccess();
    }
    const fields = visibleFields(ctx.settings);
    const form = describedForm(ctx.settings);
    const required = form.required || [];
    const errorFor = (name) => {
      const e = state.errors.find((x) => x.field === name);
      return e ? message(e.code) : null;
    };
    const summaryItems = state.errors.filter((e) => e.field !== 'form')
      .map((e) => ({ field: e.field, message: message(e.code) }));
    const formEl = h('form', { class: 'stack', novalidate: true, id: 'signup-form', on: { submit: (e) => submit(ctx, e) } },
      h('div', { class: 'field-row' },
        fields.filter((n) => n === 'firstName' || n === 'lastName').map((name) => field({
          name, label: label(name), value: state.values[name] || '', required: true,
          autocomplete: AUTOCOMPLETE[name], error: errorFor(name),
          onInput: (e) => { state.values[name] = e.target.value; },
        }))),
      fields.filter((n) => !['firstName', 'lastName', 'terms'].includes(n)).map((name) => field({
        name,
        label: label(name),
        type: name === 'email' ? 'email' : name === 'password' ? 'password' : 'text',
        value: state.values[name] || '',
        hint: has(`signup:field.${name}.hint`) ? t(`signup:field.${name}.hint`) : null,
        required: required.includes(name),
        optionalLabel: required.includes(name) ? null : t('signup:optional'),
        autocomplete: AUTOCOMPLETE[name],
        error: errorFor(name),
        onInput: (e) => { state.values[name] = e.target.value; },
      })),
      fields.includes('terms') ? checkbox('terms', label('terms'), errorFor('terms')) : null,
      h('button', { class: 'btn btn-primary btn-block', type: 'submit', id: 'signup-submit',
        'aria-busy': state.submitting ? 'true' : null, disabled: state.submitting },
      t(state.submitting ? 'signup:submitting' : 'signup:submit')));
    if (state.focusSummary) {
      state.focusSummary = false;
      queueMicrotask(() => document.getElementById('error-summary')?.focus());
    }
    return h('div', { class: 'auth-layout' },
      h('section', { class: 'card auth-card stack' },
        pageHeading(t('signup:title')),
        h('p', { class: 'lead' }, t('signup:intro')),
        summaryItems.length ? errorSummary(t('signup:error.summary'), summaryItems) : null,
        state.formError ? h('div', { id: summaryItems.length ? null : 'error-summary', tabindex: '-1' },
          alertBox('error', t(state.formError))) : null,
        formEl,
        h('p', { class: 'muted' }, t('signup:signin.prompt'), ' ', h('a', { href: '/signin' }, t('signup:signin.link')))));
  },
};
