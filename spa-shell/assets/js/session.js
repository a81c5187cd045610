// The signed-in user as the SPA knows it (GET /bff/user: claims only, never a token), kept
// honest across tabs and time:
// - sign-out in one tab is broadcast (BroadcastChannel, with a localStorage 'storage' event as
//   the fallback) and the other tabs drop the user at once;
// - returning to a tab (focus / visibilitychange) re-checks /bff/user, at most every 5 s, and a
//   visible tab re-checks it once a minute (never a loop faster than that): a session ended
//   elsewhere (an admin's revoke, "sign out everywhere else", Okta) is noticed within seconds of
//   coming back to the tab, and within a minute in a tab left open;
// - a 401 'session_ended' (the cookie named a session that has ended) drops the user with the
//   reason 'session-ended', which the app shows on the sign-in screen;
// - when the session's absolute expiry passes, /bff/user is re-checked.

import { ApiError, postJSON, request } from './api.js';

const CHANNEL_NAME = 'bff-session';
const STORAGE_KEY = 'bff-session-event';
const SIGNED_OUT_FLAG = 'bff-signed-out';
const RECHECK_MIN_INTERVAL_MS = 5000;
const RECHECK_POLL_MS = 60000; // a visible, signed-in tab; must stay >= 30 s (issue 12)
const MAX_TIMER_MS = 2 ** 31 - 1;

const state = {
  user: null,
  listeners: new Set(),
  channel: null,
  lastCheck: 0,
  expiryTimer: null,
  pollTimer: null,
};

export function currentUser() {
  return state.user;
}

export function onUserChange(fn) {
  state.listeners.add(fn);
  return () => state.listeners.delete(fn);
}

function sameUser(a, b) {
  if (!a || !b) return a === b;
  return a.sub === b.sub && a.adminRole === b.adminRole && a.preview === b.preview
    && a.expiresAt === b.expiresAt;
}

/** Replaces the user; listeners hear (user, previous, reason) when something changed. */
export function setUser(user, reason = 'update') {
  const previous = state.user;
  state.user = user || null;
  scheduleExpiryCheck();
  if (!state.user || !previous) schedulePoll();
  if (!sameUser(previous, state.user)) {
    for (const fn of state.listeners) fn(state.user, previous, reason);
  }
}

/** Asks the BFF who is signed in; a 401 means nobody. Network trouble keeps what we knew. */
export async function refreshUser(reason = 'recheck') {
  state.lastCheck = Date.now();
  try {
    const user = await request('/bff/user', { on401: 'throw', cache: 'no-store' });
    setUser(user, reason);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) setUser(null, endedReason(err, reason));
    else if (!(err instanceof ApiError)) throw err;
  }
  return state.user;
}

/** 'session-ended' for a 401 that says the session ended (revoked, signed out elsewhere). */
export function endedReason(err, fallback) {
  return err instanceof ApiError && err.code === 'session_ended' ? 'session-ended' : fallback;
}

function schedulePoll() {
  clearTimeout(state.pollTimer);
  state.pollTimer = null;
  if (!state.user) return;
  state.pollTimer = setTimeout(() => {
    state.pollTimer = null;
    if (state.user && document.visibilityState === 'visible' && Date.now() - state.lastCheck >= RECHECK_POLL_MS) {
      refreshUser('recheck').catch(() => null).finally(schedulePoll);
    } else {
      schedulePoll();
    }
  }, RECHECK_POLL_MS);
}

function scheduleExpiryCheck() {
  clearTimeout(state.expiryTimer);
  state.expiryTimer = null;
  const user = state.user;
  if (!user || !Number.isFinite(user.expiresAt)) return;
  const delay = Math.min(Math.max(user.expiresAt * 1000 - Date.now() + 1000, 1000), MAX_TIMER_MS);
  state.expiryTimer = setTimeout(() => refreshUser('expired'), delay);
}

function broadcast(type) {
  const message = { type, at: Date.now() };
  try {
    if (state.channel) state.channel.postMessage(message);
  } catch { /* a closed channel: the storage event still goes out */ }
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(message));
    localStorage.removeItem(STORAGE_KEY);
  } catch { /* storage disabled: BroadcastChannel and the focus re-check remain */ }
}

function onPeerMessage(message) {
  if (!message || typeof message.type !== 'string') return;
  if (message.type === 'signed-out') setUser(null, 'signed-out-elsewhere');
  else if (message.type === 'signed-in') refreshUser('signed-in-elsewhere');
}

function recheckSoon() {
  // Only a signed-in tab can be wrong about its session; a visitor hears about a sign-in in
  // another tab through the 'signed-in' message.
  if (!state.user || document.visibilityState !== 'visible') return;
  if (Date.now() - state.lastCheck < RECHECK_MIN_INTERVAL_MS) return;
  refreshUser('recheck');
}

export function initSession(boot) {
  state.user = boot.user || null;
  state.lastCheck = Date.now();
  scheduleExpiryCheck();
  schedulePoll();
  if ('BroadcastChannel' in window) {
    state.channel = new BroadcastChannel(CHANNEL_NAME);
    state.channel.addEventListener('message', (event) => onPeerMessage(event.data));
  }
  window.addEventListener('storage', (event) => {
    if (event.key !== STORAGE_KEY || !event.newValue) return;
    try {
      onPeerMessage(JSON.parse(event.newValue));
    } catch { /* not ours */ }
  });
  document.addEventListener('visibilitychange', recheckSoon);
  window.addEventListener('focus', recheckSoon);
  if (state.user) broadcast('signed-in');
}

/** Ends the session at the BFF, tells the other tabs, then goes through the IdP's logout. */
export async function signOut() {
  const result = await postJSON(`/bff/logout?returnTo=${encodeURIComponent('/?signed_out=1')}`, undefined, { on401: 'throw' })
    .catch((err) => {
      if (err instanceof ApiError && err.status === 401) return null; // already signed out
      throw err;
    });
  setUser(null, 'signed-out');
  broadcast('signed-out');
  try {
    sessionStorage.setItem(SIGNED_OUT_FLAG, '1');
  } catch { /* only the "you have signed out" notice is lost */ }
  window.location.assign(safeLogoutTarget(result && result.logoutUrl));
}

function safeLogoutTarget(url) {
  if (typeof url !== 'string') return '/signin';
  try {
    const parsed = new URL(url, window.location.href);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : '/?signed_out=1';
  } catch {
    return '/?signed_out=1';
  }
}

/** True once after a sign-out in this tab (to show "You have signed out"). */
export function takeSignedOutFlag() {
  try {
    const value = sessionStorage.getItem(SIGNED_OUT_FLAG);
    sessionStorage.removeItem(SIGNED_OUT_FLAG);
    return value === '1';
  } catch {
    return false;
  }
}

export function isContentAuthor(user, previewGroup) {
  return Boolean(user && Array.isArray(user.groups) && user.groups.includes(previewGroup));
}
