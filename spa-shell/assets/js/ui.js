// Small accessible building blocks shared by the screens.

import { tFirst } from './copy.js';
import { h, uid } from './dom.js';

/** The screen's heading; focused after a route change (tabindex=-1 keeps it out of Tab order). */
export function pageHeading(text, level = 1) {
  return h(`h${level}`, { class: 'page-title', tabindex: '-1', 'data-autofocus': '' }, text);
}

/** kind: 'error' (role=alert), 'success' | 'info' | 'warning' (role=status). */
export function alertBox(kind, ...content) {
  const role = kind === 'error' ? 'alert' : 'status';
  return h('div', { class: `alert alert-${kind}`, role }, ...content);
}

export function button(label, { kind = 'primary', type = 'button', onClick, busy = false, ...attrs } = {}) {
  return h('button', {
    class: `btn btn-${kind}`,
    type,
    'aria-busy': busy ? 'true' : null,
    disabled: busy,
    on: onClick ? { click: onClick } : null,
    ...attrs,
  }, label);
}

/** A link styled as a button (for navigations: /bff/login is a real page load). */
export function linkButton(label, href, { kind = 'primary', external = false, ...attrs } = {}) {
  return h('a', { class: `btn btn-${kind}`, href, 'data-external': external ? '' : null, ...attrs }, label);
}

export function card(...children) {
  return h('section', { class: 'card' }, ...children);
}

/**
 * A labelled form field with hint and error, wired for assistive technology:
 * <label for>, aria-describedby (hint + error), aria-invalid.
 */
export function field({ name, label, type = 'text', value = '', hint, error, required = false,
  optionalLabel, autocomplete, inputmode, options, maxlength, onInput }) {
  const id = `f-${name}`;
  const hintId = hint ? uid('hint') : null;
  const errorId = error ? `${id}-error` : null;
  const described = [hintId, errorId].filter(Boolean).join(' ') || null;
  const common = {
    id,
    name,
    required: required ? true : null,
    'aria-required': required ? 'true' : null,
    'aria-invalid': error ? 'true' : null,
    'aria-describedby': described,
    autocomplete,
    on: onInput ? { input: onInput, change: onInput } : null,
  };
  let control;
  if (options) {
    control = h('select', { class: 'input', ...common },
      options.map((o) => h('option', { value: o.value, selected: o.value === value }, o.label)));
  } else {
    control = h('input', { class: 'input', type, value: value ?? '', inputmode, maxlength, ...common });
  }
  return h('div', { class: `field${error ? ' field-invalid' : ''}`, 'data-field': name },
    h('label', { for: id, class: 'label' }, label,
      optionalLabel ? h('span', { class: 'label-optional' }, ` (${optionalLabel})`) : null),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    error ? h('p', { class: 'field-error', id: errorId }, error) : null,
    control);
}

/** Error summary at the top of a form: a focusable alert linking to each invalid field. */
export function errorSummary(title, errors) {
  return h('div', { class: 'alert alert-error error-summary', role: 'alert', tabindex: '-1', id: 'error-summary' },
    h('p', { class: 'error-summary-title' }, title),
    h('ul', {}, errors.map((e) => h('li', {},
      h('a', {
        href: `#f-${e.field}`,
        on: {
          click: (event) => {
            event.preventDefault();
            const input = document.getElementById(`f-${e.field}`);
            if (input) input.focus();
          },
        },
      }, e.message)))));
}

export function spinner(label) {
  return h('p', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), label);
}

export function dl(rows) {
  return h('dl', { class: 'details' }, rows.filter(Boolean).map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]));
}

/** The callback's auth_error (e.g. a refused admin step-up), on screens other than sign-in. */
export function authErrorAlert(ctx) {
  const code = ctx.flash && ctx.flash.authError;
  return code ? alertBox('error', tFirst([`signin:error.${code}`, 'signin:error.unknown'])) : null;
}
