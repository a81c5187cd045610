// Calls to the BFF. Same-origin only (the CSP's connect-src is 'self'); the session cookie is
// HttpOnly and travels by itself. State-changing calls and every /api/* call carry the CSRF
// header. Errors arrive as RFC 9457 problem+json and become ApiError. A 401 means the session
// is gone: the app's handler sends the user to sign in, remembering where they were.

const config = {
  csrf: { header: 'X-CSRF', value: '1' },
  onUnauthenticated: () => {},
};

export function configureApi({ csrf, onUnauthenticated }) {
  if (csrf && csrf.header) config.csrf = csrf;
  if (onUnauthenticated) config.onUnauthenticated = onUnauthenticated;
}

export class ApiError extends Error {
  constructor(status, problem = {}, retryAfter = null) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = problem.code || (status === 0 ? 'network' : 'error');
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
    this.problem = problem;
    this.retryAfter = retryAfter;
  }
}

function needsCsrf(method, path) {
  return method !== 'GET' && method !== 'HEAD' ? true : path.startsWith('/api/');
}

/**
 * request('/bff/profile', {method: 'POST', body: {...}}) -> parsed JSON (or null for 204).
 * `on401: 'throw'` lets a caller treat 401 as an answer (GET /bff/user) instead of a sign-out.
 * `headers`: extra request headers (the sign-in's X-BFF-Signin).
 */
export async function request(path, {
  method = 'GET', body, cache = 'default', on401 = 'signin', signal, headers: extra = {},
} = {}) {
  const headers = { ...extra, Accept: 'application/json' };
  if (needsCsrf(method, path)) headers[config.csrf.header] = config.csrf.value;
  const init = { method, headers, credentials: 'same-origin', cache, signal, redirect: 'error' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(0, { code: 'network' });
  }
  const type = response.headers.get('Content-Type') || '';
  let data = null;
  if (response.status !== 204 && /json/.test(type)) {
    try {
      data = await response.json();
    } catch {
      data = null;
    }
  }
  if (response.ok) return data;
  const retryAfter = Number.parseInt(response.headers.get('Retry-After') || '', 10);
  const error = new ApiError(response.status, data || {}, Number.isFinite(retryAfter) ? retryAfter : null);
  if (response.status === 401 && on401 === 'signin') config.onUnauthenticated(error);
  throw error;
}

export const getJSON = (path, options = {}) => request(path, options);
export const postJSON = (path, body, options = {}) => request(path, { ...options, method: 'POST', body });
