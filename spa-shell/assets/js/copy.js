// UI copy: every visible string comes from GET /bff/content/{journey} (AEM through the BFF).
// Strings are referenced as 'journey:key' (for example 'signin:title'); the first screen's
// journeys arrive in the bootstrap block, the others are fetched when a screen needs them.

import { getJSON } from './api.js';

const LOCALE_COOKIE = 'bff_locale';
const ONE_YEAR = 365 * 24 * 3600;

const state = {
  locale: 'en',
  locales: [],
  journeys: new Map(), // journey -> /bff/content body
  pending: new Map(), // journey -> Promise
  warned: new Set(),
  listeners: new Set(),
  preview: { enabled: false, variation: null },
};

/** While preview is on, copy requests say so (a separate CDN cache key; draft copy). */
export function setCopyPreview(enabled, variation = null) {
  state.preview = { enabled: Boolean(enabled), variation: enabled ? variation : null };
}

export function initCopy(boot) {
  state.locale = boot.locale || 'en';
  state.locales = Array.isArray(boot.locales) ? boot.locales : [];
  for (const [journey, body] of Object.entries(boot.copy || {})) {
    if (body && typeof body.strings === 'object') state.journeys.set(journey, body);
  }
  applyLang();
}

export function currentLocale() {
  return state.locale;
}

export function locales() {
  return state.locales;
}

export function isPreviewCopy() {
  for (const body of state.journeys.values()) if (body.preview) return true;
  return false;
}

function lookup(ref) {
  const colon = ref.indexOf(':');
  const journey = ref.slice(0, colon);
  const key = ref.slice(colon + 1);
  const body = state.journeys.get(journey);
  const value = body && body.strings ? body.strings[key] : undefined;
  return typeof value === 'string' ? value : undefined;
}

export function has(ref) {
  return lookup(ref) !== undefined;
}

function format(template, params) {
  if (!params) return template;
  return template.replace(/\{([A-Za-z0-9_]+)\}/g, (whole, name) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole);
}

/** The string for 'journey:key' with {placeholders} filled in. */
export function t(ref, params) {
  const value = lookup(ref);
  if (value === undefined) {
    if (!state.warned.has(ref)) {
      state.warned.add(ref);
      console.warn(`copy: no string for ${ref} (${state.locale})`);
    }
    return ref;
  }
  return format(value, params);
}

/** The first of several keys that exists (server error codes, then a generic message). */
export function tFirst(refs, params) {
  for (const ref of refs) {
    const value = lookup(ref);
    if (value !== undefined) return format(value, params);
  }
  return t(refs[refs.length - 1], params);
}

async function load(journey, { revalidate = false } = {}) {
  const params = new URLSearchParams({ locale: state.locale });
  if (state.preview.enabled) {
    params.set('preview', '1');
    if (state.preview.variation) params.set('variation', state.preview.variation);
  }
  const body = await getJSON(`/bff/content/${encodeURIComponent(journey)}?${params}`,
    { cache: revalidate ? 'no-cache' : 'default' });
  state.journeys.set(journey, body);
  return body;
}

/** Makes sure the copy of these journeys is loaded (one request per journey in flight). */
export async function ensure(journeys) {
  const waits = [];
  for (const journey of journeys) {
    if (state.journeys.has(journey)) continue;
    if (!state.pending.has(journey)) {
      const p = load(journey).finally(() => state.pending.delete(journey));
      state.pending.set(journey, p);
    }
    waits.push(state.pending.get(journey));
  }
  await Promise.all(waits);
}

function refetchAll() {
  return Promise.all([...state.journeys.keys()].map((j) => load(j, { revalidate: true })));
}

/** Reloads every loaded journey (after a preview toggle): fresh copy, then a re-render. */
export async function reloadAll() {
  await refetchAll();
  notify();
}

function applyLang() {
  const entry = state.locales.find((l) => l.code === state.locale);
  document.documentElement.lang = state.locale;
  document.documentElement.dir = (entry && entry.dir) || 'ltr';
}

/** Switches the locale: remembered in the bff_locale cookie, copy reloaded, lang updated. */
export async function setLocale(code) {
  if (!state.locales.some((l) => l.code === code) || code === state.locale) return;
  const previous = state.locale;
  state.locale = code;
  try {
    await refetchAll();
  } catch (err) {
    state.locale = previous;
    throw err;
  }
  const secure = location.protocol === 'https:' ? '; Secure' : '';
  document.cookie = `${LOCALE_COOKIE}=${encodeURIComponent(code)}; Path=/; Max-Age=${ONE_YEAR}; SameSite=Lax${secure}`;
  applyLang();
  notify();
}

export function onCopyChange(fn) {
  state.listeners.add(fn);
  return () => state.listeners.delete(fn);
}

function notify() {
  for (const fn of state.listeners) fn();
}
