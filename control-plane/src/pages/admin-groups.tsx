// Groups on the admin page: the list with a create form, and one group's members and properties.
import { Layout, XsrfField } from './layout'
import { AdminNav, AdminStyle, Messages, count } from './admin-kit'

export interface GroupView {
  name: string
  users?: string[]
  properties?: Record<string, unknown>
}

export function AdminGroupsPage(p: {
  xsrf: string
  user: { name: string; admin: boolean }
  groups: GroupView[]
  total: number
  page: number
  perPage: number
  mayCreate: boolean
  notice?: string
}) {
  const pages = Math.max(1, Math.ceil(p.total / p.perPage))
  const at = (page: number) => (page > 1 ? `/hub/admin/groups?page=${page}` : '/hub/admin/groups')
  return (
    <Layout title="Admin: groups" user={p.user}>
      <AdminStyle />
      <AdminNav current="groups" />
      <div class="card">
        <h1>Groups</h1>
        <Messages notice={p.notice} />
        <p class="muted">{p.total ? `${count(p.total)} groups` : 'No groups yet.'}</p>
        {p.groups.length ? (
          <table id="groups">
            <thead>
              <tr>
                <th scope="col">Group</th>
                <th scope="col">Members</th>
              </tr>
            </thead>
            <tbody>
              {p.groups.map((g) => (
                <tr data-group={g.name}>
                  <td>
                    <a href={`/hub/admin/groups/${encodeURIComponent(g.name)}`}>{g.name}</a>
                  </td>
                  <td>{g.users ? count(g.users.length) : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
        <nav class="pager" aria-label="Pages of groups">
          {p.page > 1 ? <a href={at(p.page - 1)}>Previous page</a> : null}
          {p.page < pages ? <a href={at(p.page + 1)}>Next page</a> : null}
        </nav>
      </div>
      {p.mayCreate ? (
        <div class="card">
          <h2>Create a group</h2>
          <form method="post" action="/hub/admin/groups" class="filters">
            <XsrfField value={p.xsrf} />
            <div class="field">
              <label for="group-name">Group name</label>
              <input id="group-name" name="name" type="text" required maxlength={255} />
            </div>
            <button type="submit" id="create-group">
              Create group
            </button>
          </form>
        </div>
      ) : null}
    </Layout>
  )
}

export function AdminGroupPage(p: {
  xsrf: string
  user: { name: string; admin: boolean }
  group: GroupView
  may: { members: boolean; delete: boolean }
  notice?: string
}) {
  const g = p.group
  const base = `/hub/admin/groups/${encodeURIComponent(g.name)}`
  const members = [...(g.users ?? [])].sort()
  return (
    <Layout title={`Admin: group ${g.name}`} user={p.user}>
      <AdminStyle />
      <AdminNav current="groups" />
      <div class="card">
        <h1>Group {g.name}</h1>
        <Messages notice={p.notice} />
        <h2>Members</h2>
        {members.length ? (
          <table id="members">
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {members.map((u) => (
                <tr data-user={u}>
                  <td>
                    <a href={`/hub/admin/users/${encodeURIComponent(u)}`}>{u}</a>
                  </td>
                  <td>
                    {p.may.members ? (
                      <form method="post" action={`${base}/members/remove`}>
                        <XsrfField value={p.xsrf} />
                        <input type="hidden" name="user" value={u} />
                        <button type="submit" class="secondary" aria-label={`Remove ${u} from ${g.name}`}>
                          Remove
                        </button>
                      </form>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p class="muted">No members.</p>
        )}
        {p.may.members ? (
          <form method="post" action={`${base}/members/add`} class="filters" style="margin-top:1rem">
            <XsrfField value={p.xsrf} />
            <div class="field">
              <label for="member-name">Add members (names, separated by spaces or commas)</label>
              <input id="member-name" name="users" type="text" autocapitalize="none" required />
            </div>
            <button type="submit" id="add-member">
              Add
            </button>
          </form>
        ) : null}
      </div>
      {p.may.members ? (
        <div class="card">
          <h2>Properties</h2>
          <form method="post" action={`${base}/properties`}>
            <XsrfField value={p.xsrf} />
            <label for="properties">Properties (a JSON object)</label>
            <textarea id="properties" name="properties" rows={6}>
              {JSON.stringify(g.properties ?? {}, null, 2)}
            </textarea>
            <button type="submit" id="save-properties" style="margin-top:1rem">
              Save properties
            </button>
          </form>
        </div>
      ) : null}
      {p.may.delete ? (
        <div class="card">
          <h2>Delete group</h2>
          <form method="post" action={`${base}/delete`}>
            <XsrfField value={p.xsrf} />
            <label class="check">
              <input type="checkbox" id="confirm-delete" name="confirm" value={g.name} required /> Yes, delete {g.name}
            </label>
            <button type="submit" class="danger" id="delete-group" style="margin-top:1rem">
              Delete group
            </button>
          </form>
        </div>
      ) : null}
    </Layout>
  )
}
