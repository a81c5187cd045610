// enroll-profile / profile-update (and any other plain form Okta asks, such as a phone's
// method choice): one field per declared field, labelled from the copy by its IDX name
// (`field.<name>.label`, never Okta's label), options as a select, booleans as checkboxes.
// profile-update (progressive profiling, docs/signup.md) is the profile screen's form: its
// `userProfile.<attr>` fields get the profile copy's hints and are checked with the profile
// screen's rules (validation.js checkProfileValue) and words (`profile:error.<attr>.<reason>`)
// before anything is sent; the BFF checks them again with the same rules.

import { has, t, tFirst } from '../../copy.js';
import { h } from '../../dom.js';
import { methodName } from '../../signinCopy.js';
import { field } from '../../ui.js';
import { checkProfileValue } from '../../validation.js';
import { checkField, fieldId, stepForm, submitButton } from './parts.js';

const AUTOCOMPLETE = {
  'userProfile.firstName': 'given-name', 'userProfile.lastName': 'family-name', 'userProfile.email': 'email',
  'userProfile.mobilePhone': 'tel', 'authenticator.phoneNumber': 'tel', 'userProfile.title': 'organization-title',
  'userProfile.company': 'organization', 'userProfile.countryCode': 'country',
};
const PREFIX = 'userProfile.';
/** Attributes whose rule needs more than the value (the supported locales): left to the BFF. */
const SERVER_CHECKED = new Set(['preferredLanguage', 'locale']);

/** The profile attribute of a profile-update field, or null. */
function profileAttribute(step, name) {
  return step.step === 'profile-update' && name.startsWith(PREFIX) ? name.slice(PREFIX.length) : null;
}

/** The profile screen's check of one value: the profile copy's sentence, or null. */
function profileProblem(attr, value) {
  if (SERVER_CHECKED.has(attr)) return null;
  const reason = checkProfileValue(attr, value, []);
  return reason ? tFirst([`profile:error.${attr}.${reason}`, 'signin:error.field.invalid']) : null;
}

export function title(flow) {
  const name = flow.step.step;
  return has(`signin:step.${name}.title`) ? t(`signin:step.${name}.title`) : t('signin:step.form.title');
}

function labelOf(name) {
  if (has(`signin:field.${name}.label`)) return t(`signin:field.${name}.label`);
  const last = name.split('.').pop();
  return has(`signin:field.userProfile.${last}.label`) ? t(`signin:field.userProfile.${last}.label`) : last;
}

function optionLabel(name, value) {
  if (name.endsWith('methodType')) return methodName(value);
  return has(`signin:option.${value}`) ? t(`signin:option.${value}`) : String(value);
}

export function render(flow) {
  const step = flow.step;
  const visible = (step.fields || []).filter((f) => f.visible !== false && f.name !== 'stateHandle');
  const controls = visible.map((f) => {
    if (f.type === 'boolean') return checkField(flow, { name: f.name, label: labelOf(f.name) });
    if (flow.values[f.name] === undefined && f.value !== undefined) flow.values[f.name] = f.value;
    const options = Array.isArray(f.options)
      ? [{ value: '', label: '' }, ...f.options.map((v) => ({ value: String(v), label: optionLabel(f.name, v) }))] : null;
    const attr = profileAttribute(step, f.name);
    return field({
      name: fieldId(f.name).slice(2), label: labelOf(f.name), type: f.secret ? 'password' : 'text',
      hint: attr && has(`profile:field.${attr}.hint`) ? t(`profile:field.${attr}.hint`) : null,
      value: flow.values[f.name] ?? '', required: Boolean(f.required),
      optionalLabel: f.required ? null : t('signin:optional'),
      autocomplete: AUTOCOMPLETE[f.name] || (f.secret ? 'off' : null), options,
      maxlength: f.maxLength || 1024, error: flow.errorFor(f.name),
      onInput: (e) => { flow.values[f.name] = e.target.value; flow.clearError(f.name); },
    });
  });
  const form = stepForm(flow, step.step, [...controls, submitButton(flow, t('signin:embedded.submit'))], () => {
    const values = {};
    let missing = false;
    for (const f of visible) {
      const value = flow.values[f.name];
      const attr = profileAttribute(step, f.name);
      const problem = attr && typeof value === 'string' && value.trim() ? profileProblem(attr, value) : null;
      if (problem) {
        flow.setError(f.name, problem);
        missing = true;
      } else if (f.type === 'boolean') {
        values[f.name] = value === true;
      } else if (typeof value === 'string' && value.trim()) {
        values[f.name] = f.type === 'integer' || f.type === 'number' ? Number(value) : value.trim();
      } else if (f.required) {
        flow.setError(f.name, t('signin:error.field.required'));
        missing = true;
      }
    }
    return missing ? null : values;
  });
  return [h('p', { class: 'lead' }, t('signin:step.form.body')), form];
}
