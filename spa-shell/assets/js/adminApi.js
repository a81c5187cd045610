// The admin API (a Lambda behind the BFF's role-checked proxy, /api/admin/*; routes in
// infra/functions/admin_api/app.py). Every call goes through api.js (CSRF header on /api/*).
// Answers are normalised here so the screens do not depend on the exact wire shape.

import { getJSON, request } from './api.js';

const enc = encodeURIComponent;

function list(body, ...names) {
  if (Array.isArray(body)) return body;
  for (const name of names) if (body && Array.isArray(body[name])) return body[name];
  return [];
}

export function normaliseUser(raw) {
  const p = (raw && raw.profile) || raw || {};
  const first = p.firstName || '';
  const last = p.lastName || '';
  const groups = list(raw && raw.groups ? raw.groups : [], 'items')
    .map((g) => (typeof g === 'string' ? g : (g.profile && g.profile.name) || g.name || g.id));
  return {
    id: raw.id,
    name: p.displayName || p.name || `${first} ${last}`.trim() || p.email || p.login || raw.id,
    email: p.email || p.login || '',
    status: String(raw.status || '').toLowerCase(),
    role: p.adminRole || raw.adminRole || raw.role || 'user',
    adminGroups: p.adminGroups || raw.adminGroups || [],
    groups,
  };
}

export function normaliseGroup(raw) {
  if (typeof raw === 'string') return { id: raw, name: raw };
  return { id: raw.id, name: (raw.profile && raw.profile.name) || raw.name || raw.id };
}

export function normaliseReview(raw) {
  const reasons = Array.isArray(raw.reasons) ? raw.reasons.map((r) => r.message || r.code).filter(Boolean) : [];
  return {
    id: raw.reviewId || raw.id,
    name: `${raw.firstName || ''} ${raw.lastName || ''}`.trim() || raw.name || raw.email || '',
    email: raw.email || raw.login || '',
    company: raw.company || raw.orgId || '',
    submitted: raw.createdAt || raw.submittedAt || null,
    reason: reasons.join(' ') || raw.reason || '',
  };
}

export async function listUsers(query) {
  const qs = query ? `?q=${enc(query)}` : '';
  return list(await getJSON(`/api/admin/users${qs}`, { cache: 'no-store' }), 'users', 'items').map(normaliseUser);
}

export async function getUser(id) {
  const body = await getJSON(`/api/admin/users/${enc(id)}`, { cache: 'no-store' });
  return normaliseUser(body && body.user ? body.user : body);
}

export async function listGroups() {
  return list(await getJSON('/api/admin/groups', { cache: 'no-store' }), 'groups', 'items').map(normaliseGroup);
}

/** Makes the user group admin of exactly these groups (names); none removes the role. */
export async function setAdminGroups(userId, groups) {
  const body = groups.length
    ? await request(`/api/admin/users/${enc(userId)}/admin-role`, { method: 'PUT', body: { role: 'group_admin', groups } })
    : await request(`/api/admin/users/${enc(userId)}/admin-role`, { method: 'DELETE' });
  return body ? normaliseUser(body) : null;
}

export async function setActive(userId, active) {
  const body = await request(`/api/admin/users/${enc(userId)}/${active ? 'reactivate' : 'deactivate'}`, { method: 'POST' });
  return body ? normaliseUser(body) : null;
}

/** Ends every session of the user (Okta's, and through its event hook the BFF's). */
export function revokeSessions(userId) {
  return request(`/api/admin/users/${enc(userId)}/sessions/revoke`, { method: 'POST' });
}

export async function listReviews() {
  return list(await getJSON('/api/admin/reviews', { cache: 'no-store' }), 'reviews', 'items').map(normaliseReview);
}

export function decideReview(id, approve) {
  return request(`/api/admin/reviews/${enc(id)}/${approve ? 'approve' : 'reject'}`, { method: 'POST' });
}

// -- invitations (org admins; the admin API calls the BFF's invitation store) -----------------

export function normaliseInvitation(raw) {
  return {
    id: raw.id,
    email: raw.email || '',
    status: raw.status || 'pending',
    invitedBy: raw.invitedBy || '',
    expires: raw.expiresAt || null,
  };
}

export async function listInvitations() {
  return list(await getJSON('/api/admin/invitations', { cache: 'no-store' }), 'invitations').map(normaliseInvitation);
}

/** Invites one address; resolves to {code, invitation} (the code is shown once). */
export async function invite(email) {
  const body = await request('/api/admin/invitations', { method: 'POST', body: { email } });
  return { code: body && body.code, invitation: normaliseInvitation((body && body.invitation) || {}) };
}

export async function revokeInvitation(id) {
  const body = await request(`/api/admin/invitations/${enc(id)}/revoke`, { method: 'POST' });
  return normaliseInvitation((body && body.invitation) || {});
}
