// The admin page's users table: one page of users from the REST API's listing (search, sort, active
// only), each user's default server with start / stop / open, a selection started or stopped at
// once, approvals, adding a user and resetting a second factor.
import { raw } from 'hono/html'
import { Layout, XsrfField } from './layout'
import { AdminNav, AdminStyle, BackField, Messages, count, serverState } from './admin-kit'

export interface ServerView {
  name: string
  ready?: boolean
  pending?: string | null
  url?: string
  last_activity?: string | null
}

/** A user as the listing shows them: the API's model (fields the viewer may read) and what they may do. */
export interface UserRow {
  name: string
  admin?: boolean
  approved: boolean
  lastActivity?: string | null
  servers: Record<string, ServerView>
  /** Named servers recorded (running or not). */
  named: number
  may: { edit: boolean; start: boolean; stop: boolean; access: boolean }
}

export interface ListQuery {
  q: string
  sort: 'name' | 'last_activity' | 'running'
  order: 'asc' | 'desc'
  active: boolean
  page: number
  perPage: number
}

export const SORT_LABELS = { name: 'Name', last_activity: 'Last activity', running: 'Running first' } as const
export const PER_PAGE = [25, 50, 100, 200] as const

/** The list's address for a query (only what differs from the defaults). */
export function listUrl(q: ListQuery, change: Partial<ListQuery> = {}): string {
  const v = { ...q, ...change }
  const p = new URLSearchParams()
  if (v.q) p.set('q', v.q)
  if (v.sort !== 'name') p.set('sort', v.sort)
  if (v.order !== 'asc') p.set('order', v.order)
  if (v.active) p.set('active', '1')
  if (v.perPage !== 50) p.set('per_page', String(v.perPage))
  if (v.page > 1) p.set('page', String(v.page))
  const s = p.toString()
  return s ? `/hub/admin?${s}` : '/hub/admin'
}

// Progressive enhancement of the selection form: the selected users one request each, with the
// progress shown; without JavaScript the form posts them all at once and the page reports the result.
const BULK_SCRIPT = `
(function () {
  var form = document.getElementById('bulk');
  var status = document.getElementById('bulk-progress');
  var bar = document.getElementById('bulk-bar');
  var all = document.getElementById('select-all');
  if (all) all.addEventListener('change', function () {
    document.querySelectorAll('input[name=users][form=bulk]').forEach(function (b) { b.checked = all.checked; });
  });
  if (!form || !window.fetch) return;
  form.addEventListener('submit', function (e) {
    var action = e.submitter && e.submitter.value;
    var users = Array.prototype.map.call(document.querySelectorAll('input[name=users][form=bulk]:checked'), function (b) { return b.value; });
    if (!action || !users.length) return;
    e.preventDefault();
    var xsrf = form.querySelector('input[name=_xsrf]').value; // (form.action is the buttons named action)
    var done = 0, sent = 0, failed = [];
    bar.max = users.length; bar.value = 0; bar.hidden = false;
    var verb = action === 'start' ? 'Starting' : 'Stopping';
    status.textContent = verb + ': 0 of ' + users.length + ' done';
    form.querySelectorAll('button').forEach(function (b) { b.disabled = true; });
    // a few at a time: a start answers once the server is ready or the hub stops waiting for it
    var next = function () {
      if (sent === users.length) {
        if (done === users.length) {
          status.textContent = verb + ': ' + done + ' of ' + users.length + ' done' +
            (failed.length ? '; failed: ' + failed.join('; ') : '') + '.';
          form.querySelectorAll('button').forEach(function (b) { b.disabled = false; });
        }
        return;
      }
      var user = users[sent++];
      var body = new URLSearchParams({ _xsrf: xsrf, action: action, users: user });
      fetch(form.getAttribute('action'), { method: 'POST', body: body, headers: { accept: 'application/json' }, credentials: 'same-origin' })
        .then(function (r) { return r.json(); })
        .then(function (r) { if (!r.ok) failed.push(user + ': ' + r.message); })
        .catch(function (err) { failed.push(user + ': ' + err); })
        .then(function () {
          done += 1; bar.value = done;
          status.textContent = verb + ': ' + done + ' of ' + users.length + ' done';
          next();
        });
    };
    for (var i = 0; i < 4; i++) next();
  });
})();
`

function ServerCell(p: { s: ServerView | undefined; named: number }) {
  const state = serverState(p.s)
  return (
    <td>
      <span class={`status ${state}`}>{state}</span>
      {p.named ? <span class="muted"> · {p.named} named</span> : null}
    </td>
  )
}

function RowActions(p: { u: UserRow; xsrf: string; back: string }) {
  const { u } = p
  const state = serverState(u.servers[''])
  const server = `/hub/admin/users/${encodeURIComponent(u.name)}/servers`
  return (
    <td>
      <div class="row">
        {!u.approved && u.may.edit ? (
          <form method="post" action={`/hub/admin/approve/${encodeURIComponent(u.name)}`}>
            <XsrfField value={p.xsrf} />
            <button type="submit">Approve</button>
          </form>
        ) : null}
        {state === 'stopped' && u.may.start && u.approved ? (
          <form method="post" action={`${server}/start`}>
            <XsrfField value={p.xsrf} />
            <BackField value={p.back} />
            <input type="hidden" name="server" value="" />
            <button type="submit" class="secondary">
              Start server<span class="sr-only"> for {u.name}</span>
            </button>
          </form>
        ) : null}
        {state !== 'stopped' && u.may.stop ? (
          <form method="post" action={`${server}/stop`}>
            <XsrfField value={p.xsrf} />
            <BackField value={p.back} />
            <input type="hidden" name="server" value="" />
            <button type="submit" class="secondary">
              Stop server<span class="sr-only"> for {u.name}</span>
            </button>
          </form>
        ) : null}
        {state === 'running' && u.may.access && u.servers['']?.url ? (
          <a class="btn secondary" href={u.servers[''].url}>
            Open server<span class="sr-only"> for {u.name}</span>
          </a>
        ) : null}
        <a class="btn secondary" href={`/hub/admin/users/${encodeURIComponent(u.name)}`}>
          {u.may.edit ? 'Edit' : 'View'}
          <span class="sr-only"> {u.name}</span>
        </a>
      </div>
    </td>
  )
}

export function AdminPage(p: {
  xsrf: string
  user: { name: string; admin: boolean }
  rows: UserRow[]
  total: number
  query: ListQuery
  error?: string
  notice?: string
  /** The viewer may create users (admin:users), and with a password (the hub keeps passwords). */
  mayAdd: boolean
  passwords: boolean
  mayStartOrStop: boolean
  /** The authenticator offers a second factor: the reset form. */
  twoFactor?: boolean
  originNotice?: string
  isolationNotice?: string
}) {
  const q = p.query
  const back = listUrl(q)
  const first = p.total ? (q.page - 1) * q.perPage + 1 : 0
  const last = Math.min(q.page * q.perPage, p.total)
  const pages = Math.max(1, Math.ceil(p.total / q.perPage))
  return (
    <Layout title="Admin" user={p.user}>
      <AdminStyle />
      <AdminNav current="users" />
      <div class="card">
        <h1>Users</h1>
        <Messages notice={p.notice} error={p.error} />
        {p.isolationNotice ? (
          <div class="notice" id="single-trust-domain">
            {p.isolationNotice}
          </div>
        ) : null}
        {p.originNotice ? (
          <div class="notice" id="shared-origin">
            {p.originNotice}
          </div>
        ) : null}
        <form method="get" action="/hub/admin" class="filters" aria-label="Find users">
          <div class="field">
            <label for="q">Name contains</label>
            <input id="q" name="q" type="search" value={q.q} autocapitalize="none" maxlength={255} />
          </div>
          <div class="field">
            <label for="sort">Sort by</label>
            <select id="sort" name="sort">
              {Object.entries(SORT_LABELS).map(([k, label]) => (
                <option value={k} selected={q.sort === k}>
                  {label}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="order">Order</label>
            <select id="order" name="order">
              <option value="asc" selected={q.order === 'asc'}>
                Ascending
              </option>
              <option value="desc" selected={q.order === 'desc'}>
                Descending
              </option>
            </select>
          </div>
          <div class="field">
            <label for="per_page">Per page</label>
            <select id="per_page" name="per_page">
              {PER_PAGE.map((n) => (
                <option value={String(n)} selected={q.perPage === n}>
                  {n}
                </option>
              ))}
            </select>
          </div>
          <label class="check">
            <input type="checkbox" id="active" name="active" value="1" checked={q.active} /> Active servers only
          </label>
          <button type="submit" id="apply-filters">
            Apply
          </button>
        </form>
        <p class="muted" id="user-count" aria-live="polite">
          {p.total ? `Users ${count(first)}–${count(last)} of ${count(p.total)}` : 'No users match.'}
        </p>
        <table id="users">
          <caption class="muted" style="text-align:left;caption-side:bottom;padding-top:.4rem">
            Page {q.page} of {pages}
          </caption>
          <thead>
            <tr>
              <th scope="col">
                {p.mayStartOrStop ? (
                  <input type="checkbox" id="select-all" aria-label="Select every user shown" />
                ) : null}
              </th>
              <th scope="col">Name</th>
              <th scope="col">Admin</th>
              <th scope="col">Server</th>
              <th scope="col">Last activity</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {p.rows.map((u) => (
              <tr data-user={u.name}>
                <td>
                  {p.mayStartOrStop && (u.may.start || u.may.stop) ? (
                    <input type="checkbox" name="users" value={u.name} form="bulk" aria-label={`Select ${u.name}`} />
                  ) : null}
                </td>
                <td>
                  <a href={`/hub/admin/users/${encodeURIComponent(u.name)}`}>{u.name}</a>
                  {u.approved ? null : <span class="muted"> (awaiting approval)</span>}
                </td>
                <td>{u.admin ? 'admin' : ''}</td>
                <ServerCell s={u.servers['']} named={u.named} />
                <td class="muted">{u.lastActivity ?? '—'}</td>
                <RowActions u={u} xsrf={p.xsrf} back={back} />
              </tr>
            ))}
          </tbody>
        </table>
        <nav class="pager" aria-label="Pages of users">
          {q.page > 1 ? (
            <a href={listUrl(q, { page: q.page - 1 })} rel="prev">
              Previous page
            </a>
          ) : null}
          {q.page < pages ? (
            <a href={listUrl(q, { page: q.page + 1 })} rel="next">
              Next page
            </a>
          ) : null}
        </nav>
        {p.mayStartOrStop ? (
          <form method="post" action="/hub/admin/bulk" id="bulk" class="row" style="margin-top:1rem">
            <XsrfField value={p.xsrf} />
            <BackField value={back} />
            <span class="muted">Selected users' default servers:</span>
            <button type="submit" name="action" value="start" id="start-selected">
              Start selected
            </button>
            <button type="submit" name="action" value="stop" id="stop-selected" class="secondary">
              Stop selected
            </button>
            <progress id="bulk-bar" hidden aria-label="Progress of the selected servers" />
            <span id="bulk-progress" role="status" aria-live="polite" />
          </form>
        ) : null}
      </div>
      {p.mayAdd ? (
        <div class="card">
          <h2>Add a user</h2>
          <form method="post" action="/hub/admin/users">
            <XsrfField value={p.xsrf} />
            <label for="username">User name</label>
            <input id="username" name="username" type="text" autocapitalize="none" required />
            {p.passwords ? (
              <>
                <label for="password">Initial password</label>
                <input id="password" name="password" type="password" autocomplete="new-password" required />
              </>
            ) : null}
            <label class="check" style="margin-top:.8rem">
              <input type="checkbox" id="new-admin" name="admin" value="1" /> Admin
            </label>
            <button type="submit" id="add-user" style="margin-top:1rem">
              Add user
            </button>
          </form>
        </div>
      ) : null}
      {p.twoFactor ? (
        <div class="card">
          <h2>Reset two-factor authentication</h2>
          <p class="muted">For a user who lost their authenticator app: their password alone logs them in again.</p>
          <form method="post" action="/hub/admin/two-factor-reset">
            <XsrfField value={p.xsrf} />
            <label for="reset-user">User name</label>
            <input id="reset-user" name="username" type="text" autocapitalize="none" required />
            <button type="submit" class="secondary" style="margin-top:1rem">
              Reset
            </button>
          </form>
        </div>
      ) : null}
      <script>{raw(BULK_SCRIPT)}</script>
    </Layout>
  )
}
