import type { UserRecord } from '../state/users'
import type { ServerRecord } from '../state/servers'
import { Layout, XsrfField } from './layout'

export function AdminPage(p: {
  xsrf: string
  user: { name: string; admin: boolean }
  users: Array<UserRecord & { server?: ServerRecord }>
  error?: string
  notice?: string
  passwords: boolean
  /** The authenticator offers a second factor: the reset form. */
  twoFactor?: boolean
  originNotice?: string
  isolationNotice?: string
}) {
  return (
    <Layout title="Admin" user={p.user}>
      <div class="card">
        <h1>Users</h1>
        {p.error ? <div class="error">{p.error}</div> : null}
        {p.notice ? <div class="notice">{p.notice}</div> : null}
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
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Admin</th>
              <th>Server</th>
              <th>Last activity</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {p.users.map((u) => (
              <tr>
                <td>{u.name}</td>
                <td>{u.admin ? 'yes' : ''}</td>
                <td class={`status ${u.server?.state ?? 'stopped'}`}>{u.server?.state ?? 'stopped'}</td>
                <td class="muted">{u.lastActivity ?? '—'}</td>
                <td>
                  {!u.approved ? (
                    <form method="post" action={`/hub/admin/approve/${encodeURIComponent(u.name)}`}>
                      <XsrfField value={p.xsrf} />
                      <button type="submit" style="margin:0">
                        Approve
                      </button>
                    </form>
                  ) : u.server && u.server.state !== 'stopped' ? (
                    <form method="post" action={`/hub/stop/${encodeURIComponent(u.name)}`}>
                      <XsrfField value={p.xsrf} />
                      <button class="secondary" type="submit" style="margin:0">
                        Stop server
                      </button>
                    </form>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {p.twoFactor ? (
        <div class="card">
          <h1>Reset two-factor authentication</h1>
          <p class="muted">For a user who lost their authenticator app: their password alone logs them in again.</p>
          <form method="post" action="/hub/admin/two-factor-reset">
            <XsrfField value={p.xsrf} />
            <label for="reset-user">User name</label>
            <input id="reset-user" name="username" type="text" autocapitalize="none" required />
            <button type="submit" class="secondary">
              Reset
            </button>
          </form>
        </div>
      ) : null}
      {p.passwords ? (
        <div class="card">
          <h1>Add a user</h1>
          <form method="post" action="/hub/admin/users">
            <XsrfField value={p.xsrf} />
            <label for="username">User name</label>
            <input id="username" name="username" type="text" required />
            <label for="password">Initial password</label>
            <input id="password" name="password" type="password" required />
            <label>
              <input type="checkbox" name="admin" value="1" /> Admin
            </label>
            <button type="submit">Add user</button>
          </form>
        </div>
      ) : null}
    </Layout>
  )
}
