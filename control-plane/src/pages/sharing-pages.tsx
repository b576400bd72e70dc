// /hub/share/OWNER/[SERVER]: the sharing page of a server (sharing.tsx). Every check is the REST
// API's (api/shares.ts): `read:shares` to see the page, `shares` to change anything, the scopes it
// hands on held by whoever shares, and `read:users:name` / `read:groups:name` to name a grantee.
// Its forms post back to the same address with an `action` field.
import { Hono } from 'hono'
import { BadRequest, HubError, NotFound } from '../../../runtime/src/errors'
import type { HubEnv } from '../http/env'
import { can, need, serverTarget } from '../http/authorize'
import { mayGrant, mayNameGrantee, shareScopes } from '../api/shares'
import { checkServerName } from '../spawn/names'
import type { Grantee } from '../state/shares'
import { sentence } from './layout'
import { type C, form, viewer } from './page-kit'
import { LINK_LIFETIMES, NOTICES, type ShareForm, SharingPage } from './sharing'

const pageOf = (owner: string, server: string) =>
  `/hub/share/${encodeURIComponent(owner)}/${server ? encodeURIComponent(server) : ''}`

/** The server the address names, which must exist; the viewer must hold `read:shares` on it. */
async function sharedServer(c: C): Promise<{ owner: string; server: string; mayShare: boolean }> {
  const owner = c.req.param('user')!
  const server = checkServerName(c.req.param('server') ?? '')
  need(c, 'read:shares', await serverTarget(c, owner, server, 'read:shares'))
  if (!(await c.var.deps.shares.serverExists(owner, server))) throw new NotFound(`No such server: ${owner}/${server}`)
  return { owner, server, mayShare: can(c, 'shares', await serverTarget(c, owner, server, 'shares')) }
}

function granteeOf(f: Record<string, string>): Grantee {
  const name = (f.name ?? '').trim()
  if (!name) throw new BadRequest('enter the name of the user or group to share with')
  if (f.kind !== 'user' && f.kind !== 'group') throw new BadRequest('choose whether to share with a user or a group')
  return { kind: f.kind, name }
}

export function sharingPages(): Hono<HubEnv> {
  const app = new Hono<HubEnv>()

  const render = async (
    c: C,
    at: { owner: string; server: string; mayShare: boolean },
    extra: { error?: string; newLink?: { url: string; expiresAt: string }; form?: ShareForm } = {},
    status: 200 | 400 | 403 | 404 = 200,
  ) => {
    const d = c.var.deps
    const [shares, codes, rec] = await Promise.all([
      d.shares.ofOwner(at.owner, at.server),
      d.shares.codes(at.owner, at.server),
      d.servers.get(at.owner, at.server),
    ])
    return c.html(
      <SharingPage
        xsrf={c.var.xsrf}
        user={viewer(c)!}
        owner={at.owner}
        server={at.server}
        action={pageOf(at.owner, at.server)}
        mayShare={at.mayShare}
        running={rec?.state === 'running'}
        shares={shares}
        codes={codes}
        notice={NOTICES[c.req.query('done') ?? '']}
        {...extra}
      />,
      status,
    )
  }

  for (const path of ['/share/:user/', '/share/:user/:server']) {
    app.get(path, async (c) => render(c, await sharedServer(c)))

    app.post(path, async (c) => {
      const f = await form(c)
      const at = await sharedServer(c)
      const { owner, server } = at
      const d = c.var.deps
      const by = c.var.identity!.user.name
      const back = (done: keyof typeof NOTICES) => c.redirect(`${pageOf(owner, server)}?done=${done}`, 303)
      try {
        need(c, 'shares', await serverTarget(c, owner, server, 'shares'))
        const scopes = shareScopes(undefined, owner, server)
        switch (f.action) {
          case 'grant': {
            const to = granteeOf(f)
            await mayGrant(c, scopes, owner, server)
            await mayNameGrantee(c, to, owner)
            await d.shares.grant(owner, server, to, scopes)
            d.log.info('shared server', { user: owner, server, with: `${to.kind}:${to.name}`, scopes, by })
            return back('shared')
          }
          case 'revoke': {
            const to = granteeOf(f)
            await d.shares.revoke(owner, server, to)
            d.log.info('revoked shared access', { user: owner, server, from: `${to.kind}:${to.name}`, by })
            return back('revoked')
          }
          case 'link': {
            const expiresIn = Number(f.expires_in)
            if (!LINK_LIFETIMES.some(([sec]) => sec === expiresIn))
              throw new BadRequest('choose how long the link works from the list')
            await mayGrant(c, scopes, owner, server)
            const { code, record } = await d.shares.issueCode(owner, server, scopes, expiresIn)
            d.log.info('issued share code', { user: owner, server, id: record.id, by })
            const accept = `/hub/accept-share?${new URLSearchParams({ code })}`
            const origin = d.config.publicUrl ? d.publicUrl : new URL(c.req.url).origin
            c.header('Cache-Control', 'no-store') // the page shows the new link's code: kept by no cache
            return render(c, at, { newLink: { url: `${origin}${accept}`, expiresAt: record.expiresAt } })
          }
          case 'revoke-link': {
            const id = f.id ?? ''
            const rec = /^sc_\d{1,15}$/.test(id) ? await d.shares.getCode(id) : undefined
            if (!rec || rec.owner !== owner || rec.server !== server)
              throw new NotFound('this share link is not one of this server’s (it may have expired)')
            await d.shares.deleteCode(rec)
            d.log.info('revoked share codes', { user: owner, server, id, by })
            return back('link-revoked')
          }
          default:
            throw new BadRequest('this form asks for nothing the sharing page does')
        }
      } catch (err) {
        // a refusal is shown on the page, with what was entered kept; anything else is the hub's error page
        if (!(err instanceof HubError) || !err.expose) throw err
        const status = err.status === 403 ? 403 : err.status === 404 ? 404 : 400
        return render(
          c,
          at,
          { error: sentence(err.message), form: { kind: f.kind, name: f.name, expires_in: f.expires_in } },
          status,
        )
      }
    })
  }
  return app
}
