// The user's profile (GET /bff/profile), shared by the home screen (is it complete?) and the
// profile screen (the form). Cached for the page's life; saving updates the cache.

import { getJSON, postJSON } from './api.js';

let cached = null;
let pending = null;

/** Normalises the BFF's answer to {values: {field: value|null}, fields: [names], missing: [names]}. */
export function normalise(body, configured = []) {
  const values = (body && (body.profile || body.values)) || {};
  const fields = Array.isArray(body && body.fields)
    ? body.fields.map((f) => (typeof f === 'string' ? f : f && f.name)).filter(Boolean)
    : configured;
  const missing = Array.isArray(body && body.missing)
    ? body.missing
    : fields.filter((f) => values[f] === undefined || values[f] === null || values[f] === '');
  return { values, fields, missing };
}

export function loadProfile(configured, { fresh = false } = {}) {
  if (cached && !fresh) return Promise.resolve(cached);
  if (!pending) {
    pending = getJSON('/bff/profile', { cache: 'no-store' })
      .then((body) => { cached = normalise(body, configured); return cached; })
      .finally(() => { pending = null; });
  }
  return pending;
}

export function cachedProfile() {
  return cached;
}

export async function saveProfile(changes, configured) {
  const body = await postJSON('/bff/profile', changes);
  cached = body ? normalise(body, configured) : null;
  return cached;
}

export function forgetProfile() {
  cached = null;
}
