// Administration, for customer admins only: the users of my organisation (or, for a group
// admin, of my groups), their roles, the invitations into my organisation (org admins: invite,
// list, revoke), and the manual-review queue (approve / reject).
// The admin role exists only in a session that went through the step-up login
// (/bff/login?scope=admin); without it the screen offers that step-up to would-be admins and
// shows nothing of the admin area to anyone else. The admin API enforces all of it again.

import {
  decideReview, getUser, invite, listGroups, listInvitations, listReviews, listUsers, revokeInvitation,
  revokeSessions, setActive, setAdminGroups,
} from '../adminApi.js';
import { ApiError } from '../api.js';
import { hasAdminRole, isAdminEligible, loginUrl, stepUpPath } from '../auth.js';
import { currentLocale, t } from '../copy.js';
import { announce, h } from '../dom.js';
import { currentLocation } from '../router.js';
import { alertBox, button, linkButton, pageHeading, spinner } from '../ui.js';

const state = {
  users: null,
  usersQuery: '',
  usersFor: null, // the query the list answers
  user: null,
  userId: null,
  groups: null,
  reviews: null,
  invitations: null,
  inviteEmail: '',
  issued: null, // {email, code}: the code of the invitation just made, shown once
  loading: new Set(),
  error: null, // copy ref
  done: null, // {ref, params}
  busy: new Set(),
  searchTimer: null,
  focusAfter: null,
};

function failure(err) {
  if (err instanceof ApiError && err.status === 403) return 'admin:error.forbidden';
  if (err instanceof ApiError && err.status === 0) return 'common:error.network';
  if (err instanceof ApiError && err.status === 503) return 'common:error.unavailable';
  return 'admin:error.actionFailed';
}

function track(key, ctx, promise) {
  state.loading.add(key);
  state.error = null;
  return promise
    .catch((err) => {
      if (!(err instanceof ApiError && err.status === 401)) state.error = failure(err);
      return null;
    })
    .finally(() => {
      state.loading.delete(key);
      ctx.rerender();
    });
}

function loadUsers(ctx) {
  const query = state.usersQuery.trim();
  return track('users', ctx, Promise.all([
    listUsers(query),
    state.groups ? Promise.resolve(state.groups) : listGroups().catch(() => null),
  ]).then(([users, groups]) => {
    if (state.usersQuery.trim() === query) {
      state.users = users;
      state.usersFor = query;
    }
    state.groups = groups || state.groups;
  }));
}

function loadUser(ctx, id) {
  state.userId = id;
  return track('user', ctx, Promise.all([
    getUser(id),
    state.groups ? Promise.resolve(state.groups) : listGroups().catch(() => null),
  ]).then(([user, groups]) => {
    if (state.userId === id) state.user = user;
    state.groups = groups || state.groups;
  }));
}

function loadInvitations(ctx) {
  return track('invitations', ctx, listInvitations().then((items) => { state.invitations = items; }));
}

function loadReviews(ctx) {
  return track('reviews', ctx, listReviews().then((reviews) => { state.reviews = reviews; }));
}

function formatDate(value) {
  if (!value) return '';
  const date = new Date(typeof value === 'number' && value < 1e12 ? value * 1000 : value);
  if (Number.isNaN(date.getTime())) return String(value);
  return new Intl.DateTimeFormat(currentLocale(), { dateStyle: 'medium', timeStyle: 'short' }).format(date);
}

function statusBadge(status) {
  const active = status === 'active';
  return h('span', { class: `badge ${active ? 'badge-active' : 'badge-inactive'}` },
    t(`admin:status.${status || 'active'}`));
}

/** A modal confirmation (<dialog>: focus is trapped and Escape cancels natively). */
function confirmDialog(message) {
  return new Promise((resolve) => {
    const opener = document.activeElement;
    const dialog = h('dialog', { 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-body', id: 'confirm-dialog' },
      h('h2', { id: 'confirm-title' }, t('admin:confirm.title')),
      h('p', { id: 'confirm-body' }, message),
      h('div', { class: 'actions' },
        button(t('admin:confirm.yes'), { id: 'confirm-yes', onClick: () => dialog.close('yes') }),
        button(t('admin:confirm.no'), { kind: 'secondary', id: 'confirm-no', onClick: () => dialog.close('no') })));
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (opener && document.contains(opener)) opener.focus();
      resolve(dialog.returnValue === 'yes');
    });
    document.body.append(dialog);
    dialog.showModal();
    dialog.querySelector('#confirm-no').focus();
  });
}

async function act(ctx, key, { confirmRef, doneRef, params }, action) {
  if (confirmRef && !(await confirmDialog(t(confirmRef, params)))) return;
  state.busy.add(key);
  state.error = null;
  state.done = null;
  ctx.rerender();
  try {
    await action();
    if (doneRef) {
      state.done = { ref: doneRef, params };
      announce(t(doneRef, params));
    }
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) state.error = failure(err);
  } finally {
    state.busy.delete(key);
  }
  ctx.rerender();
}

// -- pieces ---------------------------------------------------------------------------------

function embeddedSignin(ctx) {
  return (ctx.settings.signinMode || 'embedded') !== 'redirect';
}

function stepUp(ctx) {
  return h('div', { class: 'auth-layout' },
    h('section', { class: 'card auth-card stack', id: 'admin-stepup' },
      pageHeading(t('admin:stepup.title')),
      h('p', {}, t('admin:stepup.body')),
      embeddedSignin(ctx)
        // The SPA's own sign-in screens, for the admin scope (views/signin.js).
        ? linkButton(t('admin:stepup.button'), stepUpPath(currentLocation()),
          { id: 'stepup-button', class: 'btn btn-primary btn-block' })
        : linkButton(t('admin:stepup.button'), loginUrl({ returnTo: currentLocation(), scope: 'admin' }),
          { id: 'stepup-button', class: 'btn btn-primary btn-block', external: true })));
}

function denied() {
  return h('div', { class: 'stack narrow', id: 'admin-denied' },
    pageHeading(t('admin:title')),
    alertBox('error', t('admin:error.forbidden')),
    h('p', {}, h('a', { href: '/' }, t('common:nav.home'))));
}

function tabs(ctx) {
  const name = ctx.route.name;
  const tab = (href, label, active) => h('a', { href, 'aria-current': active ? 'page' : null }, label);
  return h('nav', { class: 'tabs', 'aria-label': t('admin:title') },
    tab('/admin/users', t('admin:users.title'), name === 'admin' || name.startsWith('admin-user')),
    tab('/admin/reviews', t('admin:review.title'), name === 'admin-reviews'));
}

function usersPanel(ctx) {
  const query = state.usersQuery;
  const rows = state.users || [];
  const search = h('div', { class: 'field' },
    h('label', { for: 'user-search', class: 'label' }, t('admin:users.search.label')),
    h('input', {
      id: 'user-search', class: 'input', type: 'search', value: query, autocomplete: 'off',
      placeholder: t('admin:users.search.placeholder'),
      on: {
        input: (event) => {
          state.usersQuery = event.target.value;
          clearTimeout(state.searchTimer);
          state.searchTimer = setTimeout(() => loadUsers(ctx), 250);
        },
      },
    }));
  let body;
  if (state.users === null) body = state.loading.has('users') ? spinner(t('common:status.loading')) : null;
  else if (rows.length === 0) {
    body = h('p', { class: 'muted', id: 'users-empty' },
      state.usersFor ? t('admin:users.noMatch', { query: state.usersFor }) : t('admin:users.empty'));
  } else {
    body = h('div', { class: 'table-wrap' }, h('table', { id: 'users-table' },
      h('caption', { class: 'visually-hidden' }, t('admin:users.title')),
      h('thead', {}, h('tr', {},
        ['name', 'email', 'role', 'status'].map((c) => h('th', { scope: 'col' }, t(`admin:users.column.${c}`))))),
      h('tbody', {}, rows.map((u) => h('tr', { 'data-user': u.email },
        h('th', { scope: 'row' }, h('a', { href: `/admin/users/${encodeURIComponent(u.id)}` }, u.name)),
        h('td', {}, u.email),
        h('td', {}, t(`admin:role.${u.role}`)),
        h('td', {}, statusBadge(u.status)))))));
  }
  return h('div', { class: 'stack' }, h('section', { class: 'stack', 'aria-labelledby': 'users-heading' },
    h('h2', { id: 'users-heading' }, t('admin:users.title')),
    h('p', { class: 'muted' }, t('admin:users.intro', { org: ctx.user.orgId || '' })),
    state.groups ? h('p', { id: 'visible-groups' }, h('strong', {}, `${t('admin:users.column.groups')}: `),
      state.groups.map((g) => g.name).join(', ')) : null,
    search,
    body),
  ctx.user.adminRole === 'org_admin' ? invitationsPanel(ctx) : null);
}

/** The link the invitee opens: the sign-in, which starts the sign-up with the code (the same
 * link `bff invite --link` prints; bff/signup/invitations.py invitation_link). */
function invitationLink(code) {
  return `${window.location.origin}/signin?invitation=${encodeURIComponent(code)}`;
}

function invitationsPanel(ctx) {
  const rows = state.invitations || [];
  const email = h('input', {
    id: 'invite-email', class: 'input', type: 'email', value: state.inviteEmail, autocomplete: 'off',
    required: true, maxlength: 100,
    on: { input: (event) => { state.inviteEmail = event.target.value; } },
  });
  const submit = (event) => {
    event.preventDefault();
    const address = state.inviteEmail.trim();
    if (!address) return;
    act(ctx, 'invite', { doneRef: null }, () => invite(address).then(({ code, invitation }) => {
      state.issued = { email: invitation.email || address, code };
      state.inviteEmail = '';
      state.invitations = [invitation, ...(state.invitations || []).filter((i) => i.id !== invitation.id)];
    }));
  };
  const form = h('form', { class: 'actions', id: 'invite-form', novalidate: true, on: { submit } },
    h('label', { for: 'invite-email', class: 'label' }, t('admin:invite.email.label')), email,
    button(t('admin:invite.button'), { id: 'invite-button', type: 'submit', busy: state.busy.has('invite') }));
  const issued = state.issued ? h('div', { class: 'alert alert-success', role: 'status', id: 'invite-issued' },
    h('p', {}, t('admin:invite.created', { email: state.issued.email })),
    h('p', {}, h('strong', {}, `${t('admin:invite.link.label')}: `), h('code', { id: 'invite-link' }, invitationLink(state.issued.code))),
    h('p', {}, h('span', {}, `${t('admin:invite.code.label')}: `), h('code', { id: 'invite-code' }, state.issued.code))) : null;
  let body;
  if (state.invitations === null) body = state.loading.has('invitations') ? spinner(t('common:status.loading')) : null;
  else if (rows.length === 0) body = h('p', { class: 'muted', id: 'invitations-empty' }, t('admin:invite.empty'));
  else {
    body = h('div', { class: 'table-wrap' }, h('table', { id: 'invitations-table' },
      h('caption', { class: 'visually-hidden' }, t('admin:invite.title')),
      h('thead', {}, h('tr', {},
        ['email', 'status', 'expires', 'invitedBy'].map((c) => h('th', { scope: 'col' }, t(`admin:invite.column.${c}`))),
        h('th', { scope: 'col' }, t('admin:users.column.actions')))),
      h('tbody', {}, rows.map((inv) => {
        const rowId = `invitation-${inv.id}`;
        const open = inv.status === 'pending' || inv.status === 'reserved';
        const params = { email: inv.email };
        return h('tr', { 'data-invitation': inv.email },
          h('th', { scope: 'row', id: rowId }, inv.email),
          h('td', {}, t(`admin:invite.status.${inv.status}`)),
          h('td', {}, formatDate(inv.expires)),
          h('td', {}, inv.invitedBy),
          h('td', {}, open ? button(t('admin:action.revokeInvitation'), {
            kind: 'danger', class: 'btn btn-danger btn-small revoke-invitation', 'aria-describedby': rowId,
            busy: state.busy.has(rowId),
            onClick: () => act(ctx, rowId, { confirmRef: 'admin:confirm.revokeInvitation', doneRef: 'admin:done.revokeInvitation', params },
              () => revokeInvitation(inv.id).then((updated) => {
                state.invitations = state.invitations.map((i) => (i.id === inv.id ? { ...i, ...updated } : i));
                if (state.issued && state.issued.email === inv.email) state.issued = null;
              })),
          }) : null));
      }))));
  }
  return h('section', { class: 'stack', 'aria-labelledby': 'invitations-heading', id: 'invitations' },
    h('h2', { id: 'invitations-heading' }, t('admin:invite.title')),
    h('p', { class: 'muted' }, t('admin:invite.intro', { org: ctx.user.orgId || '' })),
    form, issued, body);
}

function userPanel(ctx) {
  const u = state.user && state.user.id === state.userId ? state.user : null;
  const back = h('p', {}, h('a', { href: '/admin/users' }, `← ${t('common:action.back')}`));
  if (!u) return h('section', { class: 'stack' }, back, state.loading.has('user') ? spinner(t('common:status.loading')) : null);
  const orgAdmin = ctx.user.adminRole === 'org_admin';
  const active = u.status === 'active' || u.status === 'provisioned' || u.status === 'staged';
  const params = { name: u.name };
  const actions = [];
  if (u.id !== ctx.user.sub) {
    actions.push(active
      ? button(t('admin:action.deactivate'), {
        kind: 'danger', id: 'deactivate', busy: state.busy.has('active'),
        onClick: () => act(ctx, 'active', { confirmRef: 'admin:confirm.deactivate', doneRef: 'admin:done.deactivate', params },
          () => setActive(u.id, false).then((updated) => { if (updated) state.user = updated; })),
      })
      : button(t('admin:action.reactivate'), {
        kind: 'secondary', id: 'reactivate', busy: state.busy.has('active'),
        onClick: () => act(ctx, 'active', { confirmRef: 'admin:confirm.reactivate', doneRef: 'admin:done.reactivate', params },
          () => setActive(u.id, true).then((updated) => { if (updated) state.user = updated; })),
      }));
    actions.push(button(t('admin:action.revokeSessions'), {
      kind: 'secondary', id: 'revoke-sessions', busy: state.busy.has('sessions'),
      onClick: () => act(ctx, 'sessions', { confirmRef: 'admin:confirm.revokeSessions', doneRef: 'admin:done.revokeSessions', params },
        () => revokeSessions(u.id)),
    }));
  }
  const roleRows = [];
  if (orgAdmin && u.role !== 'org_admin') {
    for (const group of u.adminGroups) {
      roleRows.push(h('li', {}, `${t('admin:role.group_admin')}: ${group} `,
        button(t('admin:action.removeGroupAdmin'), {
          kind: 'ghost', class: 'btn btn-ghost btn-small', busy: state.busy.has(`ga-${group}`),
          onClick: () => act(ctx, `ga-${group}`,
            { confirmRef: 'admin:confirm.removeGroupAdmin', doneRef: 'admin:done.removeGroupAdmin', params: { ...params, group } },
            () => setAdminGroups(u.id, u.adminGroups.filter((g) => g !== group)).then((updated) => { if (updated) state.user = updated; })),
        })));
    }
    const candidates = (state.groups || []).filter((g) => !u.adminGroups.includes(g.name));
    if (candidates.length && u.status === 'active') {
      const select = h('select', { id: 'group-select', class: 'input input-compact' },
        candidates.map((g) => h('option', { value: g.name }, g.name)));
      roleRows.push(h('li', { class: 'actions' },
        h('label', { for: 'group-select', class: 'visually-hidden' }, t('admin:users.column.groups')), select,
        button(t('admin:action.assignGroupAdmin'), {
          kind: 'secondary', class: 'btn btn-secondary btn-small', id: 'assign-group-admin', busy: state.busy.has('ga-new'),
          onClick: () => {
            const group = candidates.find((g) => g.name === select.value) || candidates[0];
            act(ctx, 'ga-new',
              { confirmRef: 'admin:confirm.assignGroupAdmin', doneRef: 'admin:done.assignGroupAdmin', params: { ...params, group: group.name } },
              () => setAdminGroups(u.id, [...u.adminGroups, group.name]).then((updated) => { if (updated) state.user = updated; }));
          },
        })));
    }
  }
  return h('section', { class: 'stack', 'aria-labelledby': 'user-heading' },
    back,
    h('div', { class: 'card stack' },
      h('h2', { id: 'user-heading' }, u.name),
      h('dl', { class: 'details' },
        h('dt', {}, t('admin:users.column.email')), h('dd', {}, u.email),
        h('dt', {}, t('admin:users.column.role')), h('dd', {}, t(`admin:role.${u.role}`)),
        h('dt', {}, t('admin:users.column.groups')), h('dd', {}, u.groups.join(', ')),
        h('dt', {}, t('admin:users.column.status')), h('dd', {}, statusBadge(u.status))),
      roleRows.length ? h('ul', { class: 'stack plain-list', id: 'role-actions' }, roleRows) : null,
      actions.length ? h('div', { class: 'actions' }, actions) : null));
}

function reviewsPanel(ctx) {
  let body;
  const rows = state.reviews || [];
  if (state.reviews === null) body = state.loading.has('reviews') ? spinner(t('common:status.loading')) : null;
  else if (rows.length === 0) body = h('p', { class: 'muted', id: 'reviews-empty' }, t('admin:review.empty'));
  else {
    body = h('div', { class: 'table-wrap' }, h('table', { id: 'reviews-table' },
      h('caption', { class: 'visually-hidden' }, t('admin:review.title')),
      h('thead', {}, h('tr', {},
        ['name', 'email', 'company', 'submitted', 'reason'].map((c) => h('th', { scope: 'col' }, t(`admin:review.column.${c}`))),
        h('th', { scope: 'col' }, t('admin:users.column.actions')))),
      h('tbody', {}, rows.map((r) => {
        const rowId = `review-${r.id}`;
        const decide = (approve) => act(ctx, rowId,
          { doneRef: approve ? 'admin:review.approved' : 'admin:review.rejected', params: { email: r.email } },
          () => decideReview(r.id, approve).then(() => { state.reviews = state.reviews.filter((x) => x.id !== r.id); }));
        return h('tr', { 'data-review': r.email },
          h('th', { scope: 'row', id: rowId }, r.name),
          h('td', {}, r.email),
          h('td', {}, r.company),
          h('td', {}, formatDate(r.submitted)),
          h('td', {}, r.reason),
          h('td', {}, h('div', { class: 'actions' },
            button(t('admin:review.approve'), { class: 'btn btn-primary btn-small', 'aria-describedby': rowId,
              busy: state.busy.has(rowId), onClick: () => decide(true) }),
            button(t('admin:review.reject'), { kind: 'danger', class: 'btn btn-danger btn-small', 'aria-describedby': rowId,
              busy: state.busy.has(rowId), onClick: () => decide(false) }))));
      }))));
  }
  return h('section', { class: 'stack', 'aria-labelledby': 'reviews-heading' },
    h('h2', { id: 'reviews-heading' }, t('admin:review.title')),
    h('p', { class: 'muted' }, t('admin:review.intro')),
    body);
}

export default {
  journeys: () => ['admin'],
  title: () => t('admin:title'),
  enter(ctx) {
    state.error = null;
    state.done = null;
    state.issued = null; // a code is shown once, on the screen that made it
    if (!hasAdminRole(ctx.user)) return;
    const name = ctx.route.name;
    if (name === 'admin' || name === 'admin-users') {
      loadUsers(ctx);
      if (ctx.user.adminRole === 'org_admin') loadInvitations(ctx);
    }
    else if (name === 'admin-user') loadUser(ctx, ctx.params.id);
    else if (name === 'admin-reviews') loadReviews(ctx);
  },
  leave() {
    clearTimeout(state.searchTimer);
  },
  render(ctx) {
    if (!hasAdminRole(ctx.user)) return isAdminEligible(ctx.user, ctx.settings) ? stepUp(ctx) : denied();
    const name = ctx.route.name;
    let panel;
    if (name === 'admin-user') panel = userPanel(ctx);
    else if (name === 'admin-reviews') panel = reviewsPanel(ctx);
    else panel = usersPanel(ctx);
    return h('div', { class: 'stack' },
      pageHeading(t('admin:title')),
      tabs(ctx),
      state.error ? alertBox('error', t(state.error)) : null,
      state.done ? alertBox('success', t(state.done.ref, state.done.params)) : null,
      panel);
  },
};
