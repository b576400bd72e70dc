// One user on the admin page: rename and the admin flag, delete, and each of their servers (the
// default and named ones) with start, stop and open.
import { Layout, XsrfField } from './layout'
import { AdminNav, AdminStyle, BackField, Messages, serverState } from './admin-kit'
import type { ServerView } from './admin'

export interface UserDetail {
  name: string
  admin?: boolean
  groups?: string[]
  created?: string
  lastActivity?: string | null
  servers: ServerView[]
}

export interface ServerMay {
  start: boolean
  stop: boolean
  access: boolean
}

export function AdminUserPage(p: {
  xsrf: string
  user: { name: string; admin: boolean }
  target: UserDetail
  may: { edit: boolean; delete: boolean; grantAdmin: boolean }
  serverMay: Record<string, ServerMay>
  namedServers: boolean
  notice?: string
}) {
  const t = p.target
  const base = `/hub/admin/users/${encodeURIComponent(t.name)}`
  const back = base
  return (
    <Layout title={`Admin: ${t.name}`} user={p.user}>
      <AdminStyle />
      <AdminNav current="users" />
      <div class="card">
        <h1>{t.name}</h1>
        <Messages notice={p.notice} />
        <dl class="info">
          <dt>Admin</dt>
          <dd>{t.admin ? 'yes' : 'no'}</dd>
          {t.groups ? (
            <>
              <dt>Groups</dt>
              <dd>{t.groups.length ? t.groups.join(', ') : '—'}</dd>
            </>
          ) : null}
          {t.created ? (
            <>
              <dt>Created</dt>
              <dd>{t.created}</dd>
            </>
          ) : null}
          <dt>Last activity</dt>
          <dd>{t.lastActivity ?? '—'}</dd>
        </dl>
      </div>
      <div class="card">
        <h2>Servers</h2>
        <table id="servers">
          <thead>
            <tr>
              <th scope="col">Server</th>
              <th scope="col">State</th>
              <th scope="col">Last activity</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {t.servers.map((s) => {
              const state = serverState(s)
              const may = p.serverMay[s.name] ?? { start: false, stop: false, access: false }
              const label = s.name ? s.name : 'default server'
              return (
                <tr data-server={s.name}>
                  <td>{s.name || <span class="muted">(default)</span>}</td>
                  <td class={`status ${state}`}>{state}</td>
                  <td class="muted">{s.last_activity ?? '—'}</td>
                  <td>
                    <div class="row">
                      {state === 'stopped' && may.start ? (
                        <form method="post" action={`${base}/servers/start`}>
                          <XsrfField value={p.xsrf} />
                          <BackField value={back} />
                          <input type="hidden" name="server" value={s.name} />
                          <button type="submit" class="secondary" aria-label={`Start ${label}`}>
                            Start
                          </button>
                        </form>
                      ) : null}
                      {state !== 'stopped' && may.stop ? (
                        <form method="post" action={`${base}/servers/stop`}>
                          <XsrfField value={p.xsrf} />
                          <BackField value={back} />
                          <input type="hidden" name="server" value={s.name} />
                          <button type="submit" class="secondary" aria-label={`Stop ${label}`}>
                            Stop
                          </button>
                        </form>
                      ) : null}
                      {state === 'running' && may.access && s.url ? (
                        <a class="btn secondary" href={s.url} aria-label={`Open ${label}`}>
                          Open
                        </a>
                      ) : null}
                    </div>
                  </td>
                </tr>
              )
            })}
          </tbody>
        </table>
        {p.namedServers && p.serverMay['']?.start ? (
          <form method="post" action={`${base}/servers/start`} class="filters" style="margin-top:1rem">
            <XsrfField value={p.xsrf} />
            <BackField value={back} />
            <div class="field">
              <label for="new-server">Start a named server</label>
              <input id="new-server" name="server" type="text" autocapitalize="none" required pattern="[^/]+" />
            </div>
            <button type="submit" id="start-named">
              Start
            </button>
          </form>
        ) : null}
      </div>
      {p.may.edit ? (
        <div class="card">
          <h2>Edit user</h2>
          <form method="post" action={`${base}/edit`}>
            <XsrfField value={p.xsrf} />
            <label for="new-name">Name</label>
            <input id="new-name" name="name" type="text" value={t.name} autocapitalize="none" required />
            {p.may.grantAdmin || t.admin ? (
              <label class="check" style="margin-top:.8rem">
                <input type="checkbox" id="edit-admin" name="admin" value="1" checked={!!t.admin} /> Admin
              </label>
            ) : null}
            <button type="submit" id="save-user" style="margin-top:1rem">
              Save
            </button>
          </form>
        </div>
      ) : null}
      {p.may.delete ? (
        <div class="card">
          <h2>Delete user</h2>
          <p class="muted">Deletes {t.name}'s account and what the hub keeps of theirs: servers, tokens, sessions.</p>
          <form method="post" action={`${base}/delete`}>
            <XsrfField value={p.xsrf} />
            <label class="check">
              <input type="checkbox" id="confirm-delete" name="confirm" value={t.name} required /> Yes, delete {t.name}
            </label>
            <button type="submit" class="danger" id="delete-user" style="margin-top:1rem">
              Delete {t.name}
            </button>
          </form>
        </div>
      ) : null}
    </Layout>
  )
}
