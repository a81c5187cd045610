// The sign-in screen. BFF_SIGNIN_MODE (the bootstrap's settings.signinMode) picks the screens:
// `redirect` is a button to /bff/login (views/signin/redirect.js); `embedded` (the default)
// is the product's own screens on the BFF's embedded sign-in API (/bff/signin, docs/signin.md):
// this module asks for the current step, picks the step screen for it (one module per step
// kind in views/signin/), posts what the user typed and follows the answer:
//
//   identify, identify-recovery                 -> identify.js
//   challenge-authenticator (password)          -> password.js
//   challenge-/enroll-authenticator (email, SMS/voice, TOTP code)   -> passcode.js
//   enroll-authenticator with a TOTP enrollment -> enrollTotp.js (QR code drawn here)
//   reenroll-/reset-authenticator, password enrollment -> newPassword.js
//   challenge-/enroll-authenticator for a passkey (webauthn)         -> passkey.js
//   select-authenticator-authenticate|enroll|unlock-account          -> select.js
//   enroll-profile, profile-update, other plain forms                -> profile.js
//   terminal -> terminal.js; unsupported (and anything unknown) -> unsupported.js
//   success -> a full navigation to `location` (the session cookie is set); redirect -> the same
//   to `location` (/bff/login: a federated user's IdP).
//
// Below each step: its field-less alternatives (skip, cancel, the redirect flow as last resort).
// An invitation link (`/signin?invitation=<code>`, docs/signup.md "With an invitation"): the
// code is taken out of the address bar at once (history.replaceState), kept in this module's
// memory only (never in localStorage or sessionStorage), and sent with POST /bff/signin (again
// when this page starts a sign-in over), which keeps it in the transaction; the first identify
// step then goes straight to the sign-up form (once: going back shows the identifier). A refused code (422 invitation_*) is said in the signup copy above a plain sign-in.
//
// History: each new step is a history entry on the same URL. Reload redraws the current step
// (GET /bff/signin); back goes to the previous screen when Okta still offers it, else to the
// identifier (this transaction cancelled, a new one started, the identifier kept).
// /signin?unlock=1 (the link of the lockout email) starts a sign-in and goes on to "Unlock your
// account" at once, as the identify step's unlock button does.

import { ApiError } from '../api.js';
import { loginUrl, safeReturnTo } from '../auth.js';
import { ensure, t, tFirst } from '../copy.js';
import { announce, h } from '../dom.js';
import { keepInvitation } from '../invitation.js';
import { navigate } from '../router.js';
import { takeSignedOutFlag } from '../session.js';
import {
  cancelSignin, currentStep, forgetSignin, rememberIdentifier, startSignin, submitStep, tabSignin,
} from '../signinApi.js';
import { fieldCodeText, problemText } from '../signinCopy.js';
import { pageHeading, spinner } from '../ui.js';
import * as enrollTotp from './signin/enrollTotp.js';
import * as identify from './signin/identify.js';
import * as newPassword from './signin/newPassword.js';
import { sessionNotice } from './signin/notice.js';
import { actionButton, messageArea, splitMessages } from './signin/parts.js';
import * as passcode from './signin/passcode.js';
import * as passkey from './signin/passkey.js';
import * as password from './signin/password.js';
import * as profile from './signin/profile.js';
import redirectView from './signin/redirect.js';
import * as select from './signin/select.js';
import * as terminal from './signin/terminal.js';
import * as unsupported from './signin/unsupported.js';

const PASSCODE_KEYS = new Set(['okta_email', 'phone_number', 'google_otp']);
const FORMS = new Set(['enroll-profile', 'profile-update', 'authenticator-verification-data',
  'authenticator-enrollment-data']);
/** Alternatives the footer offers (they post no fields). */
const FOOTER = ['skip', 'cancel', 'redirect'];
const SCOPE = /^[A-Za-z0-9_:.-]{1,64}$/;

/** The screen module for a step. */
export function screenFor(step) {
  const name = step && step.step;
  const auth = (step && step.authenticator) || {};
  if (name === 'identify' || name === 'identify-recovery') return identify;
  if (typeof name === 'string' && name.startsWith('select-authenticator-')) return select;
  if (name === 'reenroll-authenticator' || name === 'reset-authenticator') return newPassword;
  if (name === 'challenge-authenticator' || name === 'enroll-authenticator') {
    if (auth.key === 'okta_password') return name === 'enroll-authenticator' ? newPassword : password;
    if (auth.key === 'webauthn') return passkey;
    if (auth.enrollment && auth.enrollment.type === 'totp') return enrollTotp;
    if (PASSCODE_KEYS.has(auth.key)) return passcode;
    return unsupported;
  }
  if (FORMS.has(name)) return profile;
  if (name === 'terminal') return terminal;
  return unsupported;
}

const state = {
  ctx: null,
  returnTo: '/',
  scope: null,
  step: null,
  seq: 0,
  cache: new Map(), // history seq -> step, this page's lifetime only
  loading: false,
  busy: null,
  values: {},
  errors: {}, // IDX field name -> text (client checks and refused submissions)
  notice: null, // {kind, text}: a problem answer
  focus: null, // 'field' after a new step or an error
  resendAt: 0,
  timer: null,
  identifier: '',
  signedOut: false,
  token: 0, // the latest request wins
  invitation: null, // {code, fresh}: the invitation link's code, this page's memory only
};

/** The invitation code of the address bar, removed from it (and from this history entry). */
function takeInvitation(ctx) {
  if (ctx.route.name !== 'signin' || !ctx.query.has('invitation')) return null;
  const code = (ctx.query.get('invitation') || '').trim();
  const url = new URL(window.location.href);
  url.searchParams.delete('invitation');
  window.history.replaceState(window.history.state, '', url.pathname + url.search + url.hash);
  ctx.query.delete('invitation');
  // Whatever it is goes to the BFF, which refuses a malformed code with the precise reason.
  return code ? { code, fresh: true } : null;
}

/** A 422 invitation_* problem: the signup copy's sentence for its code, else null. */
function invitationProblem(err) {
  if (!(err instanceof ApiError) || err.status !== 422) return null;
  const refused = err.errors.find((e) => e && e.field === 'invitation' && typeof e.code === 'string');
  if (!refused && !String(err.code || '').startsWith('invitation_')) return null;
  const code = refused ? refused.code : `error.invitationCode.${String(err.code).slice('invitation_'.length)}`;
  return tFirst([`signup:${code}`, 'signup:error.invitationCode.unknown']);
}

function embedded(ctx) {
  return (ctx.settings.signinMode || 'embedded') !== 'redirect';
}

function wantedReturnTo(ctx) {
  return safeReturnTo(ctx.route.name === 'root' ? '/' : ctx.query.get('returnTo'));
}

function wantedScope(ctx) {
  const scope = ctx.route.name === 'signin' ? ctx.query.get('scope') : null;
  return scope && SCOPE.test(scope) ? scope : null;
}

function rerender() {
  if (state.ctx) state.ctx.rerender();
}

// -- history ----------------------------------------------------------------------------------

function historyEntry() {
  const entry = window.history.state;
  return entry && entry.signin && Number.isInteger(entry.signin.seq) ? entry.signin : null;
}

function record(step, { replace = false } = {}) {
  const here = window.location.pathname + window.location.search;
  if (replace || !state.step) {
    const seq = historyEntry() ? historyEntry().seq : 0;
    state.seq = seq;
    window.history.replaceState({ ...(window.history.state || {}), signin: { seq, step: step.step } }, '', here);
  } else if (state.step.step !== step.step || step.step === 'terminal') {
    state.seq += 1;
    window.history.pushState({ signin: { seq: state.seq, step: step.step } }, '', here);
  }
  state.cache.set(state.seq, step);
}

// -- showing a step -------------------------------------------------------------------------------

function safeLocation(value, fallback) {
  return typeof value === 'string' && value.startsWith('/') && !value.startsWith('//') && !value.startsWith('/\\')
    ? value : fallback;
}

function show(step, { replace = false, keepValues = false } = {}) {
  if (!step || typeof step.step !== 'string') {
    state.notice = { kind: 'error', text: t('signin:error.unknown') };
    state.loading = false;
    rerender();
    return;
  }
  if (step.step === 'success') {
    forgetSignin();
    state.busy = 'leaving';
    announce(t('signin:step.success.title'));
    rerender();
    window.location.assign(safeLocation(step.location, state.returnTo));
    return;
  }
  if (step.step === 'redirect') {
    state.busy = 'leaving';
    rerender();
    window.location.assign(safeLocation(step.location, loginUrl({ returnTo: state.returnTo, scope: state.scope })));
    return;
  }
  const same = state.step && state.step.step === step.step;
  if (screenFor(step) === profile) ensure(['signup', 'profile']).then(rerender, () => null); // field codes
  record(step, { replace });
  const before = state.step;
  state.step = step;
  state.loading = false;
  state.errors = {};
  if (!keepValues && !same) state.values = {};
  else delete state.values['credentials.passcode']; // never keep a secret that was sent
  if (screenFor(step) === passcode && (!same || !before)) state.resendAt = Date.now() + passcode.RESEND_COOLDOWN_S * 1000;
  state.focus = 'field';
  startCountdown();
  rerender();
}

function startCountdown() {
  clearInterval(state.timer);
  state.timer = null;
  if (!state.step || screenFor(state.step) !== passcode || !(state.step.authenticator || {}).resend) return;
  state.timer = setInterval(() => {
    const button = document.getElementById('signin-resend');
    const left = secondsLeft();
    if (button) {
      button.textContent = passcode.resendLabel(left);
      button.disabled = Boolean(state.busy) || left > 0;
    }
    if (left <= 0) {
      clearInterval(state.timer);
      state.timer = null;
    }
  }, 1000);
}

function secondsLeft() {
  return Math.max(0, Math.ceil((state.resendAt - Date.now()) / 1000));
}

function fail(err) {
  state.busy = null;
  state.loading = false;
  if (!(err instanceof ApiError)) {
    console.error('sign-in step failed:', err);
    state.notice = { kind: 'error', text: t('signin:error.unknown') };
  } else if (invitationProblem(err)) {
    // enroll-profile with another address than the invited one (invitation_email), or the
    // invitation revoked / used / expired meanwhile: no account was created.
    state.notice = { kind: 'error', text: invitationProblem(err) };
  } else if ((err.status === 400 || err.status === 422) && err.errors.length) {
    // 400 invalid_submission: the step's own field codes; 422: the sign-up and profile rules
    // the BFF applies to userProfile.* (codes of the signup journey, docs/signup.md).
    for (const e of err.errors) {
      if (e && typeof e.field === 'string' && typeof e.code === 'string') {
        const journeys = state.step && state.step.step === 'profile-update' ? ['profile', 'signup'] : ['signup', 'profile'];
        state.errors[e.field] = err.status === 422
          ? tFirst([...journeys.map((j) => `${j}:${e.code}`), 'signin:error.field.invalid']) : fieldCodeText(e.code);
      }
    }
    const declared = new Set(((state.step && state.step.fields) || []).map((f) => f.name));
    if (!Object.keys(state.errors).some((f) => declared.has(f))) {
      state.notice = { kind: 'error', text: t('signin:error.unknown') };
    }
  } else {
    state.notice = { kind: 'error', text: problemText(err) };
  }
  state.focus = 'field';
  rerender();
}

// -- actions ---------------------------------------------------------------------------------------

async function run(busy, action) {
  const token = ++state.token;
  state.busy = busy;
  state.notice = null;
  rerender();
  try {
    const step = await action();
    if (token !== state.token) return;
    state.busy = null;
    show(step);
  } catch (err) {
    if (token !== state.token) return;
    if (err instanceof ApiError && (err.status === 410 || err.status === 404)) {
      // This sign-in ended (expired, finished in another tab): a fresh one, with a word why.
      await begin({ notice: { kind: 'warning', text: problemText(err) } });
      return;
    }
    if (err instanceof ApiError && err.status === 409) {
      // Another tab moved this sign-in on: show where it is now.
      try {
        const step = await currentStep();
        state.busy = null;
        show(step, { replace: true });
        state.notice = { kind: 'warning', text: problemText(err) };
        rerender();
        return;
      } catch { /* fall through to the error */ }
    }
    fail(err);
  }
}

async function begin({ notice = null, identifier = null, unlock = false } = {}) {
  const token = ++state.token;
  state.loading = !state.step;
  state.busy = state.step ? 'start' : null;
  rerender();
  try {
    const invitation = state.invitation && !state.scope ? state.invitation : null;
    let step = await startSignin({ returnTo: state.returnTo, scope: state.scope, identifier, invitation: invitation && invitation.code });
    if (token !== state.token) return;
    if (invitation && invitation.fresh && step && step.step === 'identify'
        && (step.alternatives || []).includes('select-enroll-profile')) {
      // The invitation link is for a new account: straight to the sign-up form.
      invitation.fresh = false;
      step = await submitStep('select-enroll-profile', {});
      if (token !== state.token) return;
    }
    state.busy = null;
    state.step = null; // a new transaction: its first step replaces the history entry
    show(step, { replace: true });
    if (state.identifier && step.step === 'identify') state.values.identifier = state.identifier;
    if (notice) state.notice = notice;
    rerender();
    if (unlock && step.step === 'identify' && (step.alternatives || []).includes('unlock-account')) {
      // The lockout email's link: on to "Unlock your account", as the identify step's button does.
      await run('unlock-account', () => submitStep('unlock-account', {}));
    }
  } catch (err) {
    if (token !== state.token) return;
    const refused = state.invitation ? invitationProblem(err) : null;
    if (refused) {
      // The code cannot be used: say why (signup copy), and offer the plain sign-in.
      state.invitation = null;
      await ensure(['signup']).catch(() => null);
      await begin({ notice: { kind: 'error', text: invitationProblem(err) } });
      return;
    }
    state.step = null;
    fail(err);
  }
}

async function resume() {
  const token = ++state.token;
  state.loading = true;
  rerender();
  try {
    const step = await currentStep();
    if (token !== state.token) return;
    show(step, { replace: true });
  } catch (err) {
    if (token !== state.token) return;
    if (err instanceof ApiError && (err.status === 404 || err.status === 410)) await begin();
    else fail(err);
  }
}

async function adoptOrBegin() {
  const token = ++state.token;
  state.loading = true;
  rerender();
  try {
    const step = await currentStep();
    if (token !== state.token) return;
    if (step && step.step !== 'identify') {
      show(step, { replace: true });
      return;
    }
  } catch (err) {
    if (token !== state.token) return;
    if (!(err instanceof ApiError)) console.error('sign-in: the current step failed:', err);
  }
  await begin();
}

async function startOver() {
  if (state.step && !['terminal', 'unsupported'].includes(state.step.step) && tabSignin()?.transaction) {
    await cancelSignin().catch(() => null);
  }
  state.step = null;
  await begin();
}

/** Browser back / forward between this tab's sign-in entries. */
async function onHistory(entry) {
  if (!state.step) {
    await resume();
    return;
  }
  if (entry.seq === state.seq) return;
  const cached = state.cache.get(entry.seq);
  const offered = cached && (cached.step === state.step.step || (state.step.alternatives || []).includes(cached.step));
  if (entry.seq < state.seq && cached && offered && cached.step !== 'identify') {
    state.seq = entry.seq;
    state.step = cached;
    state.values = {};
    state.errors = {};
    state.focus = 'field';
    rerender();
    return;
  }
  if (entry.seq < state.seq) {
    // Okta does not go back: the identifier again, in a new transaction.
    state.seq = entry.seq;
    state.step = null;
    if (tabSignin()?.transaction) await cancelSignin().catch(() => null);
    await begin();
    return;
  }
  state.seq = entry.seq;
  await resume();
}

function flowFor() {
  return {
    step: state.step,
    values: state.values,
    busy: state.busy,
    scope: state.scope,
    signedOut: state.signedOut,
    identifier: state.identifier,
    errorFor: (name) => state.errors[name] || null,
    setError: (name, text) => {
      state.errors[name] = text;
      state.focus = 'field';
      rerender();
    },
    clearError: (name) => {
      if (state.errors[name]) delete state.errors[name];
    },
    rememberIdentifier: (identifier) => {
      state.identifier = identifier;
      rememberIdentifier(identifier);
    },
    resendSecondsLeft: secondsLeft,
    busyWith: (what) => {
      state.busy = what;
      state.notice = null;
      rerender();
    },
    notify: (text) => {
      state.busy = null;
      state.notice = { kind: 'error', text };
      state.focus = 'field';
      rerender();
    },
    submit: (remediation, values, { busy = 'submit' } = {}) => {
      state.errors = {};
      run(busy, () => submitStep(remediation, values));
    },
    act: (name) => {
      if (name === 'identify-recovery') {
        // The recovery form asks for the identifier first (its one field).
        show({ ...state.step, step: 'identify-recovery', fields: [{ name: 'identifier', type: 'string', required: true }], messages: [] },
          { keepValues: true });
        return;
      }
      if (name === 'resend') state.resendAt = Date.now() + passcode.RESEND_COOLDOWN_S * 1000;
      run(name, () => submitStep(name, {})).then(() => {
        if (name === 'resend') {
          announce(t('signin:step.resent'));
          startCountdown();
        }
      });
    },
    startOver: () => { startOver(); },
  };
}

// -- drawing ---------------------------------------------------------------------------------------

function footer(flow) {
  const step = state.step;
  if (!step || ['terminal', 'identify', 'identify-recovery'].includes(step.step)) {
    return step && step.step === 'identify-recovery'
      ? h('div', { class: 'actions signin-footer' },
        actionButton(flow, t('common:action.back'), () => startOver(), { id: 'signin-back' }))
      : null;
  }
  const alternatives = new Set(step.alternatives || []);
  const items = [];
  for (const name of FOOTER) {
    if (!alternatives.has(name) && !(name === 'redirect' && step.step === 'unsupported')) continue;
    if (name === 'skip') {
      items.push(actionButton(flow, tFirst([`signin:action.skip.${step.step}`, 'signin:action.skip']), () => flow.act('skip'),
        { id: 'signin-skip', kind: 'secondary' }));
    }
    if (name === 'cancel') items.push(actionButton(flow, t('common:action.cancel'), () => startOver(), { id: 'signin-cancel' }));
    if (name === 'redirect') {
      const href = loginUrl({ returnTo: state.returnTo, scope: state.scope, loginHint: state.identifier || null });
      items.push(h('a', {
        class: 'btn btn-ghost', id: 'signin-redirect', 'data-external': '', href,
        on: {
          click: (event) => { // this transaction ends first, then Okta's own page
            event.preventDefault();
            state.busy = 'leaving';
            rerender();
            const go = () => window.location.assign(href);
            if (tabSignin()?.transaction) cancelSignin().then(go, go);
            else go();
          },
        },
      }, t('signin:action.redirect')));
    }
  }
  if (!alternatives.has('cancel') && step.step !== 'unsupported') {
    items.push(actionButton(flow, t('signin:action.startOver'), () => startOver(), { id: 'signin-cancel' }));
  } else if (step.step === 'unsupported' && !alternatives.has('cancel')) {
    items.unshift(actionButton(flow, t('signin:action.startOver'), () => startOver(), { id: 'signin-cancel' }));
  }
  return items.length ? h('div', { class: 'actions signin-footer' }, items) : null;
}

function singleField(step) {
  const visible = (step.fields || []).filter((f) => f.visible !== false && f.type !== 'boolean');
  return visible.length === 1 ? visible[0].name : null;
}

function drawStep() {
  const step = state.step;
  const screen = screenFor(step);
  // A terminal step shows its messages itself (views/signin/terminal.js).
  const { global, byField } = step.step === 'terminal' ? { global: [], byField: {} }
    : splitMessages(step, { singleField: singleField(step) });
  for (const [name, text] of Object.entries(byField)) if (!state.errors[name]) state.errors[name] = text;
  const flow = flowFor();
  const notices = state.notice ? [state.notice, ...global] : global;
  return {
    title: screen.title(flow),
    body: [messageArea(notices), screen.render(flow), footer(flow)],
  };
}

function applyFocus() {
  if (state.focus !== 'field') return;
  state.focus = null;
  queueMicrotask(() => {
    const card = document.getElementById('signin-card');
    if (!card) return;
    const target = card.querySelector('[aria-invalid="true"]')
      || card.querySelector('#signin-form input:not([type=hidden]):not([tabindex="-1"]), #signin-form select')
      || card.querySelector('#signin-errors p')
      || card.querySelector('#signin-form button[type=submit]')
      || card.querySelector('#signin-choices button, #signin-start-again, .signin-footer a, .signin-footer button');
    if (target) {
      if (target.tagName === 'P') target.setAttribute('tabindex', '-1');
      target.focus({ preventScroll: false });
    }
  });
}

function renderEmbedded(ctx) {
  let title = state.scope ? t('signin:stepup.title') : t(state.signedOut ? 'signin:signedOut.title' : 'signin:title');
  let body;
  if (state.loading || !state.step) {
    body = state.notice
      ? [messageArea([state.notice]), h('div', { class: 'actions' },
        actionButton(flowFor(), t('common:action.retry'), () => begin(), { id: 'signin-retry', kind: 'primary' }))]
      : [spinner(t('common:status.loading'))];
  } else {
    const drawn = drawStep();
    title = drawn.title;
    body = drawn.body;
  }
  applyFocus();
  return h('div', { class: 'auth-layout' },
    h('section', {
      class: 'card auth-card signin-card stack', id: 'signin-card', 'data-step': state.step ? state.step.step : 'loading',
      'data-authenticator': (state.step && state.step.authenticator && state.step.authenticator.key) || '',
      'aria-busy': state.busy || state.loading ? 'true' : 'false',
    },
    pageHeading(title),
    // "you have signed out" (and the like) belongs to the first screen, not to later steps
    !state.step || state.step.step === 'identify' ? sessionNotice(ctx, state.signedOut) : null,
    body));
}

function title(ctx) {
  if (!embedded(ctx)) return redirectView.title(ctx);
  if (!state.step) return state.scope ? t('signin:stepup.title') : t(state.signedOut ? 'signin:signedOut.title' : 'signin:title');
  return screenFor(state.step).title(flowFor());
}

export default {
  journeys: () => ['signin'],
  title,
  /** True while this tab is in the middle of its own sign-in (past the identifier). */
  holdsSignin: () => Boolean(state.step && !['identify', 'terminal'].includes(state.step.step)),
  /** Someone signed in in another tab: when it was this tab's transaction (the email's magic
   * link opened there), this tab follows to where it was going. */
  async signedInElsewhere() {
    try {
      await currentStep();
    } catch (err) {
      if (err instanceof ApiError && (err.status === 404 || err.status === 410)) {
        forgetSignin();
        window.location.assign(state.returnTo);
      }
    }
  },
  enter(ctx) {
    if (!embedded(ctx)) {
      // Redirect mode: Okta's page signs in, the BFF's form signs up; an invitation link's code
      // goes to that form (its invitationCode field), out of the address bar.
      const invited = takeInvitation(ctx);
      if (invited) {
        keepInvitation(invited.code);
        queueMicrotask(() => navigate('/signup', { replace: true }));
      }
      redirectView.enter(ctx);
      return;
    }
    const invitation = takeInvitation(ctx);
    const returnTo = wantedReturnTo(ctx);
    const scope = wantedScope(ctx);
    const reason = ctx.flash && ctx.flash.reason;
    state.ctx = ctx;
    state.signedOut = takeSignedOutFlag() || reason === 'signed-out' || reason === 'signed-out-elsewhere';
    const entry = historyEntry();
    const tab = tabSignin();
    const sameAsk = tab && tab.returnTo === returnTo && (tab.scope || null) === scope;
    if (entry && state.step && sameAsk) { // back / forward inside this page's sign-in
      onHistory(entry);
      return;
    }
    state.returnTo = returnTo;
    state.scope = scope;
    state.step = null;
    state.cache = new Map();
    state.values = {};
    state.errors = {};
    state.notice = null;
    state.busy = null;
    state.identifier = (sameAsk && tab.identifier) || '';
    if (invitation) {
      state.invitation = invitation;
      ensure(['signup']).then(rerender, () => null); // the refusals' sentences
      begin();
      return;
    }
    state.invitation = null;
    if (entry && sameAsk && tab.transaction) {
      resume(); // a reload: the current step again
      return;
    }
    if (!entry && ctx.route.name === 'signin' && ctx.query.get('unlock') === '1' && !scope) {
      // /signin?unlock=1: the link of the lockout notice (infra/functions/account_notices) starts
      // the unlock journey (identify → "Unlock your account") in a sign-in of its own.
      begin({ unlock: true });
      return;
    }
    if (!entry && !(tab && tab.transaction) && ctx.route.name === 'signin' && !ctx.query.has('returnTo') && !scope) {
      // Plain /signin in a tab with no sign-in of its own: where the BFF sends a magic link
      // opened in a new tab when the sign-in goes on (BFF's continue_path). Take up the
      // browser's sign-in if it is past the identifier, else start one.
      adoptOrBegin();
      return;
    }
    // A step-up for the signed-in user starts at their password (the identifier is known).
    const known = scope && ctx.user ? (ctx.user.login || ctx.user.email || null) : null;
    if (known) state.identifier = known;
    begin({ identifier: known });
  },
  leave() {
    clearInterval(state.timer);
    state.timer = null;
    state.token += 1;
    state.ctx = null;
    state.step = null; // coming back (history) redraws the step from the BFF
  },
  render(ctx) {
    if (!embedded(ctx)) return redirectView.render(ctx);
    state.ctx = ctx;
    return renderEmbedded(ctx);
  },
};
