// Client-side checks mirroring the server's (bff/signup/validation.py): same limits, same
// error codes (`error.<field>.<reason>`, keys of the signup/profile copy), so the user hears
// about a problem before the round trip and sees the same sentence either way. The server
// stays the authority; anything it says wins.

export const EMAIL_MAX = 100;
export const NAME_MAX = 50;
export const TEXT_MAX = 100;
export const ORG_MAX = 64;
export const INVITATION_MAX = 1024;
// The server's password policy arrives with the form description (GET /bff/signup, also in
// the bootstrap); these are its defaults.
export const DEFAULT_PASSWORD_POLICY = { minLength: 12, maxLength: 72, minLowerCase: 1, minUpperCase: 1, minNumber: 1 };

const LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const TLD = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;
const ORG = /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/;
const PHONE = /^\+?[0-9][0-9 ().-]{4,28}[0-9]$/;
const NAME_PUNCT = "'’-‐.";
const JOINERS = '\u200c\u200d';
const MARKUP = '<>&"`{}[]\\/;=';

export function normalizeText(value) {
  return value.normalize('NFKC').split(/\s+/u).filter(Boolean).join(' ');
}

export function normalizeEmail(raw) {
  const value = raw.trim();
  // eslint-disable-next-line no-control-regex
  if (!/^[\x21-\x7e]*$/.test(value)) return null;
  const at = value.lastIndexOf('@');
  if (at <= 0 || at === value.length - 1) return null;
  const local = value.slice(0, at);
  const domain = value.slice(at + 1).toLowerCase();
  if (local.length > 64 || !LOCAL.test(local)) return null;
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l)) || !TLD.test(labels[labels.length - 1])) return null;
  return `${local.toLowerCase()}@${domain}`;
}

export function isName(value) {
  if (!value || (NAME_PUNCT + JOINERS).includes(value[0]) || JOINERS.includes(value[value.length - 1])) return false;
  if (!/\p{L}/u.test(value)) return false;
  for (const ch of value) {
    if (/[\p{L}\p{M}]/u.test(ch) || ch === ' ' || NAME_PUNCT.includes(ch) || JOINERS.includes(ch)) continue;
    return false;
  }
  return true;
}

export function isCleanText(value) {
  for (const ch of value) {
    if (MARKUP.includes(ch)) return false;
    if (/[\p{Cc}\p{Co}\p{Cs}\p{Cn}\p{Zl}\p{Zp}]/u.test(ch)) return false;
    if (/\p{Cf}/u.test(ch) && !JOINERS.includes(ch)) return false;
  }
  return true;
}

const blank = (v) => v === undefined || v === null || String(v).trim() === '';

function checkName(field, raw) {
  if (blank(raw)) return 'required';
  if (raw.length > NAME_MAX * 4) return 'tooLong';
  const value = normalizeText(raw);
  if (!value) return 'required';
  if (!isName(value)) return 'invalid';
  if ([...value].length > NAME_MAX) return 'tooLong';
  return null;
}

function checkEmail(raw) {
  if (blank(raw)) return 'required';
  if (raw.trim().length > EMAIL_MAX) return 'tooLong';
  return normalizeEmail(raw) ? null : 'invalid';
}

function usernameParts(email) {
  const local = email.split('@')[0];
  return [local, ...local.split(/[.,_#@+-]/).filter((p) => p.length >= 3)];
}

/** The organisation id the server derives from a name (bff/signup/validation.py org_slug). */
export function orgSlug(name) {
  const ascii = name.normalize('NFKD').replace(/[^\x00-\x7f]/g, '').toLowerCase();
  let slug = ascii.replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, ORG_MAX).replace(/^-+|-+$/g, '');
  if (slug.length * 2 < name.replace(/ /g, '').length) slug = 'org-hashed'; // mostly non-Latin: hashed id
  return slug;
}

function checkOrganisation(raw) {
  if (blank(raw)) return 'required';
  if (raw.length > TEXT_MAX * 4) return 'tooLong';
  const value = normalizeText(raw);
  if (!isCleanText(value) || !/[\p{L}\p{N}]/u.test(value) || !ORG.test(orgSlug(value))) return 'invalid';
  if ([...value].length > TEXT_MAX) return 'tooLong';
  return null;
}

/** 'tooShort' | 'tooLong' | 'weak' | null, as password_problem() on the server. */
export function passwordProblem(password, { email, firstName, lastName }, policy = DEFAULT_PASSWORD_POLICY) {
  const length = [...password].length;
  if (length < (policy.minLength || 12)) return 'tooShort';
  if (length > (policy.maxLength || 72)) return 'tooLong';
  if (/\p{C}/u.test(password)) return 'weak';
  if (!(/\p{Ll}/u.test(password) && /\p{Lu}/u.test(password) && /\p{Nd}/u.test(password))) return 'weak';
  const lowered = password.toLowerCase();
  const personal = [];
  if (email) personal.push(...usernameParts(email));
  for (const n of [firstName, lastName]) if (n && n.length >= 3) personal.push(n);
  if (personal.some((p) => p.length >= 3 && lowered.includes(p.toLowerCase()))) return 'weak';
  return null;
}

/**
 * Sign-up form values -> [{field, code}] (empty when the form may be sent).
 * form: the server's description (GET /bff/signup): {fields, required, passwordMode, passwordPolicy}.
 */
export function validateSignup(values, form) {
  const fields = form.fields || [];
  const required = form.required || [];
  const errors = [];
  const add = (field, reason) => { if (reason) errors.push({ field, code: `error.${field}.${reason}` }); };
  add('firstName', checkName('firstName', values.firstName));
  add('lastName', checkName('lastName', values.lastName));
  add('email', checkEmail(values.email));
  if (fields.includes('company')) {
    const reason = checkOrganisation(values.company);
    add('company', reason === 'required' && !required.includes('company') ? null : reason);
  }
  if (fields.includes('invitationCode')) {
    const raw = values.invitationCode;
    if (blank(raw)) add('invitationCode', required.includes('invitationCode') ? 'required' : null);
    else if (raw.trim().length > INVITATION_MAX || /\s/.test(raw.trim())) add('invitationCode', 'invalid');
  }
  if (fields.includes('password')) {
    const raw = values.password || '';
    if (!raw) {
      if (required.includes('password')) add('password', 'required');
    } else {
      const email = normalizeEmail(values.email || '');
      add('password', passwordProblem(raw, {
        email, firstName: normalizeText(values.firstName || ''), lastName: normalizeText(values.lastName || ''),
      }, form.passwordPolicy || DEFAULT_PASSWORD_POLICY));
    }
  }
  if (fields.includes('terms') && values.terms !== true) add('terms', 'required');
  return errors;
}

/** One profile field -> reason or null (mirrors check_profile_value). */
export function checkProfileValue(name, raw, localeCodes) {
  if (blank(raw)) return ['firstName', 'lastName'].includes(name) ? 'required' : null;
  if (name === 'firstName' || name === 'lastName') return checkName(name, raw);
  if (name === 'preferredLanguage' || name === 'locale') {
    // The server's code (and the copy key) for a language outside the list is `invalid`.
    return localeCodes.some((c) => c.toLowerCase() === raw.toLowerCase()) ? null : 'invalid';
  }
  if (name === 'mobilePhone' || name === 'primaryPhone') {
    const value = raw.trim();
    const digits = (value.match(/[0-9]/g) || []).length;
    return value.length > 32 || !PHONE.test(value) || digits < 6 || digits > 15 ? 'invalid' : null;
  }
  if (name === 'countryCode') return /^[A-Za-z]{2}$/.test(raw.trim()) ? null : 'invalid';
  if (raw.length > TEXT_MAX * 4) return 'tooLong';
  const value = normalizeText(raw);
  if (!isCleanText(value)) return 'invalid';
  if ([...value].length > TEXT_MAX) return 'tooLong';
  return null;
}
