// The SPA's routes. The server knows the same paths (bff/spa/pages.py: the history fallback
// answers 200 for these and 404 for anything else); tests/unit/spa/test_pages.py keeps the
// two lists in step. `auth`: sign-in required (else: the sign-in screen, returning here).

export const ROUTES = [
  { name: 'root', path: '/', load: () => import('./views/root.js') },
  { name: 'signin', path: '/signin', load: () => import('./views/signin.js') },
  { name: 'email-code', path: '/signin/email-code', load: () => import('./views/emailcode.js') },
  { name: 'signup', path: '/signup', load: () => import('./views/signup.js') },
  { name: 'profile', path: '/profile', auth: true, load: () => import('./views/profile.js') },
  { name: 'admin', path: '/admin', auth: true, load: () => import('./views/admin.js') },
  { name: 'admin-users', path: '/admin/users', auth: true, load: () => import('./views/admin.js') },
  { name: 'admin-user', path: '/admin/users/:id', auth: true, load: () => import('./views/admin.js') },
  { name: 'admin-reviews', path: '/admin/reviews', auth: true, load: () => import('./views/admin.js') },
  { name: 'email-preview', path: '/email-preview', auth: true, load: () => import('./views/emailpreview.js') },
];

export const NOT_FOUND = { name: 'not-found', path: null, load: () => import('./views/notfound.js') };

function compile(path) {
  const names = [];
  const source = path.replace(/:([a-z]+)/g, (_, name) => {
    names.push(name);
    return '([^/]+)';
  });
  return { regex: new RegExp(`^${source}/?$`), names };
}

const COMPILED = ROUTES.map((route) => ({ route, ...compile(route.path) }));

/** {route, params} for a pathname; unknown paths get the not-found route. */
export function match(pathname) {
  for (const { route, regex, names } of COMPILED) {
    const m = regex.exec(pathname);
    if (m) {
      const params = {};
      names.forEach((name, i) => {
        try {
          params[name] = decodeURIComponent(m[i + 1]);
        } catch {
          params[name] = m[i + 1];
        }
      });
      return { route, params };
    }
  }
  return { route: NOT_FOUND, params: {} };
}
