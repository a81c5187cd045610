// History-API navigation: same-origin links to SPA paths are handled here; links into the
// BFF (/bff/login, /bff/logout, /preview...) are real navigations.

const SERVER_PATHS = /^\/(?:bff|api|__dev|assets)(?:\/|$)|^\/(?:healthz|readyz|preview)$/;

let onNavigate = () => {};

export function isSpaPath(url) {
  return url.origin === window.location.origin && !SERVER_PATHS.test(url.pathname);
}

/** Where the user is now, as a local path with query (for returnTo). */
export function currentLocation() {
  return window.location.pathname + window.location.search;
}

export function navigate(path, { replace = false, state = null } = {}) {
  const url = new URL(path, window.location.origin);
  if (!isSpaPath(url)) {
    window.location.assign(url.href);
    return;
  }
  const target = url.pathname + url.search + url.hash;
  if (replace) window.history.replaceState(state, '', target);
  else if (target !== currentLocation() + window.location.hash) window.history.pushState(state, '', target);
  onNavigate({ replace });
}

export function startRouter(handler) {
  onNavigate = handler;
  window.addEventListener('popstate', () => onNavigate({ pop: true }));
  document.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = event.target instanceof Element ? event.target.closest('a[href]') : null;
    if (!link || link.target || link.hasAttribute('download') || link.dataset.external !== undefined) return;
    const url = new URL(link.href, window.location.href);
    if (!isSpaPath(url)) return;
    event.preventDefault();
    navigate(url.pathname + url.search + url.hash);
  });
}
