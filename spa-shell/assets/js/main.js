// Entry point: reads the bootstrap block, draws the frame (header, main, live region) and
// renders the screen of the current route. Screens are modules in ./views/ exporting
// {journeys(ctx), title(ctx), enter?(ctx), render(ctx)}; `render` is called again whenever
// the copy (locale switch, preview) or the user changes, so it must draw from state only.

import { ApiError, configureApi, getJSON, postJSON } from './api.js';
import {
  currentLocale, ensure, has, initCopy, locales, onCopyChange, reloadAll, setCopyPreview, setLocale, t,
} from './copy.js';
import { announce, h, replaceChildren } from './dom.js';
import { currentLocation, navigate, startRouter } from './router.js';
import { match } from './routes.js';
import {
  currentUser, endedReason, initSession, isContentAuthor, onUserChange, refreshUser, setUser, signOut,
} from './session.js';
import { alertBox, button, spinner } from './ui.js';
import { isAdminEligible, safeReturnTo } from './auth.js';

const boot = readBootstrap();
const settings = boot.settings || {};
const app = {
  header: null,
  main: null,
  banner: null,
  current: null, // {route, params, view}
  renderToken: 0,
  flash: null, // one-shot message for the next screen: {kind, reason | authError}
  variation: null, // AEM variation being previewed (from /preview?variation=...)
  busy: { signOut: false, preview: false },
  headerError: null,
};

function readBootstrap() {
  const el = document.getElementById('bootstrap');
  try {
    return el ? JSON.parse(el.textContent) : {};
  } catch {
    return {};
  }
}

export function assetUrl(name) {
  const assets = boot.assets || {};
  return assets[name] || `/assets/${name}`;
}

// -- focus and re-rendering -----------------------------------------------------------------

function withFocusKept(draw) {
  const active = document.activeElement;
  const onHeading = Boolean(active && active.hasAttribute && active.hasAttribute('data-autofocus'));
  const id = active && active.id && active !== document.body ? active.id : null;
  let selection = null;
  if (id && typeof active.selectionStart === 'number') {
    try {
      selection = [active.selectionStart, active.selectionEnd];
    } catch { /* inputs without selection (email) */ }
  }
  draw();
  if (onHeading && !document.activeElement?.hasAttribute('data-autofocus')) {
    app.main.querySelector('[data-autofocus]')?.focus({ preventScroll: true });
    return;
  }
  if (!id) return;
  const again = document.getElementById(id);
  if (again && again !== document.activeElement) {
    again.focus({ preventScroll: true });
    if (selection && typeof again.setSelectionRange === 'function') {
      try {
        again.setSelectionRange(selection[0], selection[1]);
      } catch { /* not a text input */ }
    }
  }
}

function focusHeading() {
  const target = app.main.querySelector('[data-autofocus]') || app.main;
  target.focus({ preventScroll: false });
}

// -- the frame ----------------------------------------------------------------------------

function navLink(href, label, currentPath) {
  const active = href === '/' ? currentPath === '/' : currentPath === href || currentPath.startsWith(`${href}/`);
  return h('li', {}, h('a', { href, class: 'nav-link', 'aria-current': active ? 'page' : null }, label));
}

function localeSwitcher() {
  const options = locales().map((l) => h('option', {
    value: l.code,
    lang: l.code,
    selected: l.code === currentLocale(),
  }, has(`common:locale.${l.code}`) ? t(`common:locale.${l.code}`) : l.name));
  const select = h('select', {
    id: 'locale-select',
    class: 'input input-compact',
    on: {
      change: async (event) => {
        const code = event.target.value;
        try {
          await setLocale(code);
        } catch {
          event.target.value = currentLocale();
          announce(t('common:error.network'));
        }
      },
    },
  }, options);
  return h('div', { class: 'locale-switcher' },
    h('label', { for: 'locale-select', class: 'label-inline' }, t('common:locale.label')), select);
}

async function togglePreview() {
  const user = currentUser();
  if (!user || app.busy.preview) return;
  app.busy.preview = true;
  app.headerError = null;
  renderHeader();
  try {
    await postJSON('/bff/preview', { enabled: !user.preview });
    const updated = await refreshUser('preview');
    setCopyPreview(updated && updated.preview, app.variation);
    await reloadAll();
  } catch (err) {
    app.headerError = err && err.status === 403 ? 'common:preview.forbidden' : 'common:error.generic';
  } finally {
    app.busy.preview = false;
    renderHeader();
  }
}

async function doSignOut() {
  if (app.busy.signOut) return;
  app.busy.signOut = true;
  app.headerError = null;
  renderHeader();
  try {
    await signOut();
  } catch {
    app.busy.signOut = false;
    app.headerError = 'common:error.generic';
    renderHeader();
  }
}

function renderHeader() {
  const user = currentUser();
  const path = window.location.pathname;
  withFocusKept(() => {
    const tools = [localeSwitcher()];
    if (user) {
      if (isContentAuthor(user, settings.previewGroup)) {
        tools.push(button(t(user.preview ? 'common:preview.off' : 'common:preview.on'), {
          kind: 'secondary', id: 'preview-toggle', 'aria-pressed': user.preview ? 'true' : 'false',
          busy: app.busy.preview, onClick: togglePreview,
        }));
      }
      tools.push(h('span', { class: 'user-name', title: user.email || '' }, user.name || user.email || user.login || ''));
      tools.push(button(t('common:nav.signOut'), {
        kind: 'ghost', id: 'sign-out', busy: app.busy.signOut, onClick: doSignOut,
      }));
    } else {
      // The screen itself offers what the header would: no duplicate call to action.
      if (path !== '/signup') tools.push(h('a', { href: '/signup', class: 'nav-link' }, t('common:nav.signUp')));
      if (path !== '/' && path !== '/signin') {
        tools.push(h('a', { href: `/signin?returnTo=${encodeURIComponent(safeReturnTo(currentLocation()))}`,
          class: 'btn btn-secondary' }, t('common:nav.signIn')));
      }
    }
    replaceChildren(app.header,
      h('div', { class: 'container header-inner' },
        h('a', { href: '/', class: 'brand' },
          h('img', { src: assetUrl('img/logo.svg'), alt: '', width: '28', height: '28' }),
          h('span', {}, t('common:app.name'))),
        user ? h('nav', { class: 'main-nav', 'aria-label': t('common:app.name') },
          h('ul', {},
            navLink('/', t('common:nav.home'), path),
            navLink('/profile', t('common:nav.profile'), path),
            isAdminEligible(user, settings) ? navLink('/admin', t('common:nav.admin'), path) : null)) : null,
        h('div', { class: 'header-tools' }, tools)),
      app.headerError ? h('div', { class: 'container' }, alertBox('error', t(app.headerError))) : null);
    const preview = Boolean(user && user.preview);
    app.banner.hidden = !preview;
    replaceChildren(app.banner, preview ? h('p', { class: 'container' }, t('common:preview.banner')) : null);
  });
}

function renderFrame() {
  const root = document.getElementById('app');
  app.banner = h('div', { class: 'preview-banner', role: 'status', id: 'preview-banner', hidden: true });
  app.header = h('header', { class: 'site-header' });
  app.main = h('main', { id: 'main', class: 'container main', tabindex: '-1' });
  replaceChildren(root,
    h('a', { href: '#main', class: 'skip-link', id: 'skip-link', on: { click: (e) => { e.preventDefault(); app.main.focus(); } } },
      t('common:a11y.skipToContent')),
    app.banner,
    app.header,
    app.main,
    h('footer', { class: 'site-footer' }, h('div', { class: 'container' }, t('common:app.name'))),
    h('div', { id: 'live-region', class: 'visually-hidden', 'aria-live': 'polite' }));
}

function refreshFrameText() {
  const skip = document.getElementById('skip-link');
  if (skip) skip.textContent = t('common:a11y.skipToContent');
  const footer = document.querySelector('.site-footer .container');
  if (footer) footer.textContent = t('common:app.name');
}

// -- screens ------------------------------------------------------------------------------

function context(route, params, flash) {
  return {
    route,
    params,
    query: new URLSearchParams(window.location.search),
    user: currentUser(),
    settings,
    flash,
    navigate,
    rerender: () => rerender(),
    assetUrl,
  };
}

function drawView(view, ctx) {
  const title = view.title(ctx);
  document.title = title ? `${title} · ${t('common:app.name')}` : t('common:app.name');
  replaceChildren(app.main, view.render(ctx));
}

function rerender() {
  const current = app.current;
  if (!current) return;
  withFocusKept(() => drawView(current.view, context(current.route, current.params, current.flash)));
}

function showLoadFailure() {
  replaceChildren(app.main,
    alertBox('error', t('common:error.network')),
    button(t('common:action.retry'), { onClick: () => renderRoute({}) }));
}

async function renderRoute({ initial = false, pop = false } = {}) {
  const token = ++app.renderToken;
  const { route, params } = match(window.location.pathname);
  if (route.auth && !currentUser()) {
    navigate(`/signin?returnTo=${encodeURIComponent(currentLocation())}`, { replace: true });
    return;
  }
  const slow = setTimeout(() => {
    if (token === app.renderToken) replaceChildren(app.main, spinner(t('common:status.loading')));
  }, 200);
  const flash = app.flash;
  let view;
  try {
    view = (await route.load()).default;
    await ensure(['common', ...view.journeys(context(route, params, flash))]);
  } catch (err) {
    clearTimeout(slow);
    // A failed fetch is an outage worth a retry button; anything else is a bug worth a log.
    if (!(err instanceof ApiError)) console.error('screen failed to load:', err);
    if (token === app.renderToken) showLoadFailure();
    return;
  } finally {
    clearTimeout(slow);
  }
  if (token !== app.renderToken) return; // a newer navigation won
  const previous = app.current;
  if (previous && previous.view !== view && previous.view.leave) previous.view.leave();
  const ctx = context(route, params, flash);
  if (view.enter) view.enter(ctx);
  app.current = { route, params, view, flash };
  app.flash = null;
  renderHeader();
  drawView(view, ctx);
  if (!initial) focusHeading();
  if (pop) window.scrollTo(0, 0);
}

// -- session events -----------------------------------------------------------------------

function sessionEnded(reason) {
  app.flash = { kind: reason === 'signed-out-elsewhere' ? 'info' : 'warning', reason };
  const here = currentLocation();
  const onSignin = window.location.pathname === '/signin';
  const returnTo = onSignin ? new URLSearchParams(window.location.search).get('returnTo') : here;
  navigate(`/signin?returnTo=${encodeURIComponent(safeReturnTo(returnTo))}`, { replace: true });
}

function onUnauthenticated(error) {
  const reason = endedReason(error, 'expired');
  if (currentUser()) setUser(null, reason);
  else sessionEnded(reason);
}

onUserChange((user, previous, reason) => {
  setCopyPreview(user && user.preview, app.variation);
  if (!app.header) return; // before the first render (the S3 variant's boot)
  if (previous && !user) {
    if (reason === 'signed-out') return; // this tab is on its way to the IdP's logout
    sessionEnded(reason === 'signed-out-elsewhere' || reason === 'session-ended' ? reason : 'expired');
    return;
  }
  renderHeader();
  if (app.current) {
    const { route } = app.current;
    // Signed in elsewhere while on the sign-in screen: go where the user wanted to be, unless
    // this tab is in the middle of a sign-in of its own (another account, a step-up).
    const own = app.current.view.holdsSignin && app.current.view.holdsSignin();
    if (user && !previous && own && app.current.view.signedInElsewhere) app.current.view.signedInElsewhere();
    if (user && !previous && route.name === 'signin' && !own) {
      navigate(safeReturnTo(new URLSearchParams(window.location.search).get('returnTo')), { replace: true });
      return;
    }
    if (user && !previous && route.name === 'root' && !own) {
      renderRoute({}); // the home screen, with its copy
      return;
    }
    rerender();
  }
});

onCopyChange(() => {
  if (!app.header) return;
  refreshFrameText();
  renderHeader();
  rerender();
});

// -- start --------------------------------------------------------------------------------

/**
 * /preview (AEM's Preview URL) lands on a route with ?preview=1[&variation=v]: switch preview
 * on for an author (POST /bff/preview; the GET entry point itself never changes state).
 */
async function takePreviewRequest() {
  const params = new URLSearchParams(window.location.search);
  if (params.get('preview') !== '1') return false;
  app.variation = params.get('variation');
  params.delete('preview');
  params.delete('variation');
  const rest = params.toString();
  window.history.replaceState(window.history.state, '', window.location.pathname + (rest ? `?${rest}` : ''));
  if (!currentUser()) return false;
  try {
    const status = await getJSON('/bff/preview', { on401: 'throw', cache: 'no-store' });
    if (status && status.allowed && !status.enabled) {
      await postJSON('/bff/preview', { enabled: true }, { on401: 'throw' });
    }
    await refreshUser('preview');
    return true;
  } catch {
    return false;
  }
}

function takeAuthError() {
  const params = new URLSearchParams(window.location.search);
  const code = params.get('auth_error');
  const signedOut = params.get('signed_out') === '1';
  if (!code && !signedOut) return;
  if (code) app.flash = { kind: 'error', authError: code.replace(/[^a-z_]/g, '').slice(0, 40) };
  else app.flash = { kind: 'info', reason: 'signed-out' };
  params.delete('auth_error');
  params.delete('signed_out');
  if (signedOut) params.delete('state'); // the IdP's echo of the end-session state
  const rest = params.toString();
  window.history.replaceState(window.history.state, '', window.location.pathname + (rest ? `?${rest}` : ''));
}

async function start() {
  configureApi({ csrf: settings.csrf, onUnauthenticated });
  initCopy(boot);
  if (boot.static) {
    // The S3 variant carries no user and no copy: ask the BFF (same origin through CloudFront).
    await Promise.all([refreshUser('boot').catch(() => null), ensure(['common']).catch(() => null)]);
  }
  initSession({ ...boot, user: boot.static ? currentUser() : boot.user });
  takeAuthError();
  const previewRequested = await takePreviewRequest();
  const user = currentUser();
  setCopyPreview(user && user.preview, app.variation);
  if (previewRequested && user && user.preview) await reloadAll().catch(() => null);
  await ensure(['common']).catch(() => null); // in the bootstrap unless AEM and the cache failed
  renderFrame();
  startRouter((opts) => renderRoute(opts));
  await renderRoute({ initial: true });
  document.documentElement.dataset.ready = 'true';
}

start();
