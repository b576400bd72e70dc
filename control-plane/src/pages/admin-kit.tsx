// What the admin pages share: their style and navigation, reading a form with repeated fields (its
// XSRF field checked), the admin-ui gate, and where an action goes back to.
import { raw } from 'hono/html'
import type { Child } from 'hono/jsx'
import { BadRequest, Forbidden } from '../../../runtime/src/errors'
import { can } from '../http/authorize'
import { checkXsrf } from '../http/xsrf'
import { safeNext } from '../http/respond'
import type { C } from './page-kit'

// Wider than the other pages (a table of users); buttons darker than the accent so white text has
// 4.5:1 contrast; a focus ring on everything that takes focus.
const ADMIN_CSS = `
main{max-width:1100px}
.admin-nav{display:flex;gap:1rem;margin:0 0 1rem;padding:0;list-style:none}
.admin-nav a{color:#0550ae;font-weight:600}.admin-nav a[aria-current=page]{color:var(--fg);text-decoration:none}
.card button:not(.secondary):not(.danger),.card .btn:not(.secondary){background:#a8470f;border-color:#8a3a0c}
.card button,.card .btn{margin-top:0}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible{outline:3px solid #0969da;outline-offset:2px}
.inline{display:inline}.filters{display:flex;gap:.8rem;align-items:flex-end;flex-wrap:wrap;margin-bottom:1rem}
.filters label{margin:0 0 .2rem}.filters .field{display:flex;flex-direction:column}
.filters input[type=search]{padding:.45rem .6rem;border:1px solid var(--line);border-radius:6px;font:inherit;min-width:14rem}
.filters select{width:auto}.check{display:flex;gap:.4rem;align-items:center;font-weight:600;margin:0}
td .row form{margin:0}td .row{gap:.4rem}.pager{display:flex;gap:1rem;align-items:center;margin-top:1rem}
.card a{color:#0550ae}textarea{width:100%;font:.9em ui-monospace,monospace;padding:.5rem;border:1px solid var(--line);border-radius:6px}
.status.stopping,.status.starting{color:#953800}dl.info{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1.2rem}
dl.info dt{font-weight:600}dl.info dd{margin:0}
.sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0}
`

export const AdminStyle = () => <style>{raw(ADMIN_CSS)}</style>

export type AdminSection = 'users' | 'groups' | 'hub'

export function AdminNav(p: { current: AdminSection }) {
  const link = (section: AdminSection, href: string, label: string) => (
    <li>
      <a href={href} aria-current={p.current === section ? 'page' : undefined}>
        {label}
      </a>
    </li>
  )
  return (
    <nav aria-label="Admin sections">
      <ul class="admin-nav">
        {link('users', '/hub/admin', 'Users')}
        {link('groups', '/hub/admin/groups', 'Groups')}
        {link('hub', '/hub/admin/hub', 'Hub')}
      </ul>
    </nav>
  )
}

/** The message lines an admin page shows above its content. */
export function Messages(p: { notice?: string; error?: string; children?: Child }) {
  return (
    <>
      {p.error ? (
        <div class="error" role="alert">
          {p.error}
        </div>
      ) : null}
      {p.notice ? (
        <div class="notice" role="status">
          {p.notice}
        </div>
      ) : null}
    </>
  )
}

/** Every admin page and form needs admin-ui (as JupyterHub's admin page); the actions then the API's own scopes. */
export function needAdminUi(c: C): void {
  if (!c.var.identity || !can(c, 'admin-ui')) throw new Forbidden('the admin page is for admins')
}

/** A posted form with repeated fields kept as lists, after its XSRF check. */
export async function adminForm(c: C): Promise<{ one(name: string): string; all(name: string): string[] }> {
  const body = await c.req.parseBody({ all: true }).catch(() => {
    throw new BadRequest('expected a form body')
  })
  const values = (name: string): string[] => {
    const v = body[name]
    return (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x): x is string => typeof x === 'string')
  }
  checkXsrf(c, values('_xsrf')[0])
  return { one: (name) => values(name)[0] ?? '', all: values }
}

/** Where an action returns: the admin page it was posted from (a path under /hub/admin), with a notice. */
export function backWith(back: string, fallback: string, notice: string): string {
  // checked once resolved: /hub/admin/../x is /x
  let url = new URL(safeNext(back, fallback), 'http://hub')
  if (url.pathname !== '/hub/admin' && !url.pathname.startsWith('/hub/admin/')) url = new URL(fallback, 'http://hub')
  url.searchParams.delete('error')
  url.searchParams.set('notice', notice)
  return url.pathname + url.search
}

/**
 * The `notice` a page shows after an action: the hub's own redirect puts it in the URL, so a link
 * from anywhere else could put words of its own on an admin page. Shown only when the browser says
 * the navigation came from this origin (Sec-Fetch-Site: same-origin: the redirect after one of these
 * forms); a link followed from another site, a mail or the address bar shows none. Clients that send
 * no Sec-Fetch-Site (not browsers) get it.
 */
export function noticeOf(c: C): string | undefined {
  const site = c.req.header('sec-fetch-site')
  return site === undefined || site === 'same-origin' ? c.req.query('notice') : undefined
}

/** The hidden field naming the page an action returns to. */
export const BackField = (p: { value: string }) => <input type="hidden" name="back" value={p.value} />

/** What a server's state is called on the admin pages. */
export function serverState(s: { ready?: boolean; pending?: string | null } | undefined): string {
  if (!s) return 'stopped'
  if (s.pending === 'spawn') return 'starting'
  if (s.pending === 'stop') return 'stopping'
  return s.ready ? 'running' : 'stopped'
}

/** The number with thousands separators (100,000). */
export const count = (n: number) => n.toLocaleString('en-US')
