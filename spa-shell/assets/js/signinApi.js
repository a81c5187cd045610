// The embedded sign-in API (/bff/signin, docs/signin.md): every call answers a "step" (JSON
// built by bff/signin/steps.py) or a problem. Each tab remembers its own transaction id in
// sessionStorage and names it in X-BFF-Signin, so two tabs can each run their own sign-in;
// nothing else is kept in the browser (the BFF holds every Okta handle). What the tab asked
// for (returnTo, scope, the identifier typed) is kept beside the id to resume after a reload.

import { request } from './api.js';

const KEY = 'bff-signin';
export const TRANSACTION_HEADER = 'X-BFF-Signin';

function read() {
  try {
    const value = JSON.parse(sessionStorage.getItem(KEY) || 'null');
    return value && typeof value === 'object' ? value : null;
  } catch {
    return null;
  }
}

function write(value) {
  try {
    if (value) sessionStorage.setItem(KEY, JSON.stringify(value));
    else sessionStorage.removeItem(KEY);
  } catch { /* storage disabled: the browser's latest transaction is used */ }
}

/** What this tab is signing in for: {transaction, returnTo, scope, identifier} or null. */
export function tabSignin() {
  return read();
}

export function rememberIdentifier(identifier) {
  const current = read();
  if (current) write({ ...current, identifier });
}

export function forgetSignin() {
  write(null);
}

function remember(step, extra) {
  if (step && typeof step.transaction === 'string') {
    write({ ...(read() || {}), ...extra, transaction: step.transaction });
  } else if (step && ['success', 'terminal', 'redirect'].includes(step.step)) {
    const current = read();
    if (current) write({ ...current, transaction: null });
  }
  return step;
}

function headers() {
  const current = read();
  return current && current.transaction ? { [TRANSACTION_HEADER]: current.transaction } : {};
}

function call(path, { method = 'GET', body } = {}) {
  // A 401 here is not "the session ended" (there is none yet): let the screen handle it.
  return request(path, { method, body, cache: 'no-store', on401: 'throw', headers: headers() });
}

/** POST /bff/signin: a new transaction for {returnTo, scope?, identifier?, invitation?}. The
 * invitation code is sent, never stored: the BFF keeps it in the transaction. */
export async function startSignin({ returnTo, scope = null, identifier = null, invitation = null }) {
  const body = { returnTo };
  if (scope) body.scope = scope;
  if (identifier) body.identifier = identifier;
  if (invitation) body.invitation = invitation;
  write({ returnTo, scope, identifier, transaction: null });
  const step = await request('/bff/signin', { method: 'POST', body, cache: 'no-store', on401: 'throw' });
  return remember(step, {});
}

/** GET /bff/signin: this tab's current step (reload, back, forward). */
export async function currentStep() {
  return remember(await call('/bff/signin'), {});
}

/** POST /bff/signin/{remediation} with the step's dotted field values. */
export async function submitStep(remediation, values = {}) {
  return remember(await call(`/bff/signin/${encodeURIComponent(remediation)}`, { method: 'POST', body: values }), {});
}

/** POST /bff/signin/cancel: ends this tab's transaction (and Okta's). */
export async function cancelSignin() {
  try {
    await call('/bff/signin/cancel', { method: 'POST', body: {} });
  } finally {
    const current = read();
    if (current) write({ ...current, transaction: null });
  }
}
