// Sign-in links and what the user may see. In the redirect mode signing in is a full-page
// navigation to the BFF (/bff/login), which redirects to Okta and back to `returnTo` (a local
// path only); in the embedded mode it is the SPA's own /signin screens (views/signin.js).

/** A local path to come back to; anything else (absolute, protocol-relative) becomes '/'. */
export function safeReturnTo(value) {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) {
    return '/';
  }
  if (/^\/(?:signin|bff\/)/.test(value)) return '/';
  return value.slice(0, 2000);
}

/** /bff/login?returnTo=...[&scope=admin][&login_hint=...] */
export function loginUrl({ returnTo = '/', scope = null, loginHint = null } = {}) {
  const params = new URLSearchParams({ returnTo: safeReturnTo(returnTo) });
  if (scope) params.set('scope', scope);
  if (loginHint) params.set('login_hint', loginHint);
  return `/bff/login?${params}`;
}

/** The embedded step-up: the SPA's sign-in screens for `scope` (BFF_SIGNIN_MODE=embedded). */
export function stepUpPath(returnTo, scope = 'admin') {
  return `/signin?${new URLSearchParams({ returnTo: safeReturnTo(returnTo), scope })}`;
}

/** Admin role granted in this session (after the step-up login). */
export function hasAdminRole(user) {
  return Boolean(user && user.adminRole);
}

/**
 * May this user try the admin step-up? Okta fails a step-up for anyone outside the admin
 * groups (access_denied), so the entry points are shown only to members of those groups
 * (settings.adminGroups) or to users who already hold the role.
 */
export function isAdminEligible(user, settings = {}) {
  if (!user) return false;
  if (hasAdminRole(user)) return true;
  const groups = Array.isArray(user.groups) ? user.groups : [];
  const adminGroups = Array.isArray(settings.adminGroups) ? settings.adminGroups : [];
  return groups.some((g) => adminGroups.includes(g));
}
