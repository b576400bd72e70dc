// /hub/accept-share?code=…: a logged-in user accepts a share code (JupyterHub's AcceptShareHandler).
// GET shows whose server it is and what the code grants; the form's POST exchanges the code for a
// share of the user's own and goes to the server (or to `next`).
import { Hono, type Context } from 'hono'
import type { HubEnv } from '../http/env'
import { BadRequest, Forbidden, NotFound } from '../../../runtime/src/errors'
import { checkXsrf } from '../http/xsrf'
import { safeNext } from '../http/respond'
import { serverBaseUrl } from '../spawn/orchestrator'
import { SCOPES } from '../scopes/vocabulary'
import type { ShareCodeRecord } from '../state/shares'
import { Layout, XsrfField } from './layout'

type C = Context<HubEnv>

const UNKNOWN = 'This share code is unknown or has expired: ask the owner of the server for a new link'

function AcceptSharePage(p: {
  xsrf: string
  user: { name: string; admin: boolean }
  code: ShareCodeRecord
  secret: string
  ready: boolean
  next: string
}) {
  const url = serverBaseUrl(p.code.owner, p.code.server)
  const ref = `${p.code.owner}/${p.code.server}`
  return (
    <Layout title="Accept sharing invitation" user={p.user}>
      <div class="card">
        <h1>Accept sharing invitation</h1>
        <p>
          You (<strong>{p.user.name}</strong>) have been invited to use <strong>{p.code.owner}</strong>'s server
          {p.code.server ? ` ${p.code.server}` : ''} at <a href={url}>{url}</a>.
        </p>
        {p.ready ? null : (
          <div class="error" id="not-running">
            The server is not running now. Once you have accepted, you may need to ask {p.code.owner} to start it.
          </div>
        )}
        <p>By accepting, you are granted these permissions, on this server only:</p>
        <ul id="scopes">
          {p.code.scopes.map((s) => (
            <li>
              {SCOPES[s.split('!')[0]]?.description ?? s} <span class="muted">(server {ref})</span>
            </li>
          ))}
        </ul>
        <p class="muted">
          Only accept if you trust {p.code.owner}: their server runs their code, and you use it as yourself. The
          invitation can be accepted until <time datetime={p.code.expiresAt}>{p.code.expiresAt}</time>.
        </p>
        <div class="row">
          <form method="post" action="/hub/accept-share">
            <XsrfField value={p.xsrf} />
            <input type="hidden" name="code" value={p.secret} />
            <input type="hidden" name="next" value={p.next} />
            <button type="submit" id="accept">
              Accept invitation
            </button>
          </form>
          <a class="btn secondary" id="decline" href="/hub/home">
            Not now
          </a>
        </div>
        <p class="muted">
          Afterwards you go to <a href={p.next}>{p.next}</a>.
        </p>
      </div>
    </Layout>
  )
}

function viewer(c: C) {
  const id = c.var.identity
  return id && { name: id.user.name, admin: id.user.admin }
}

/** The code a request presents, valid and not the caller's own; `bad` for a missing or unknown one. */
async function presented(c: C, secret: string | undefined, bad: (msg: string) => Error): Promise<ShareCodeRecord> {
  if (!secret) throw new BadRequest('the link has no share code (?code=…)')
  const code = await c.var.deps.shares.findCode(secret)
  if (!code) throw bad(UNKNOWN)
  if (code.owner === c.var.identity!.user.name) throw bad("You can't share with yourself!")
  return code
}

const login = (c: C) => c.redirect(`/hub/login?next=${encodeURIComponent(c.req.url.slice(c.req.url.indexOf('/hub/')))}`)

export function acceptShareRoutes(): Hono<HubEnv> {
  const app = new Hono<HubEnv>()

  for (const path of ['/accept-share', '/accept-share/']) {
    app.get(path, async (c) => {
      // the code is in this page's URL and form: kept by no cache, sent to no other site as a referrer
      c.header('Cache-Control', 'no-store')
      c.header('Referrer-Policy', 'no-referrer')
      if (!c.var.identity) return login(c)
      const secret = c.req.query('code')
      const code = await presented(c, secret, (m) => (m === UNKNOWN ? new NotFound(m) : new Forbidden(m)))
      const rec = await c.var.deps.servers.get(code.owner, code.server)
      const next = safeNext(c.req.query('next'), serverBaseUrl(code.owner, code.server))
      return c.html(
        <AcceptSharePage
          xsrf={c.var.xsrf}
          user={viewer(c)!}
          code={code}
          secret={secret!}
          ready={rec?.state === 'running'}
          next={next}
        />,
      )
    })

    app.post(path, async (c) => {
      if (!c.var.identity) return login(c)
      const body = await c.req.parseBody().catch(() => {
        throw new BadRequest('expected a form body')
      })
      const field = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : undefined)
      checkXsrf(c, field('_xsrf'))
      const code = await presented(c, field('code') ?? c.req.query('code'), (m) => new BadRequest(m))
      const d = c.var.deps
      await d.shares.exchange(code, c.var.identity.user.name)
      d.log.info('accepted share code', {
        user: code.owner,
        server: code.server,
        id: code.id,
        by: c.var.identity.user.name,
      })
      return c.redirect(safeNext(field('next') ?? c.req.query('next'), serverBaseUrl(code.owner, code.server)))
    })
  }
  return app
}
