// Starting and stopping servers from pages: spawn, stop, spawn-pending, user-redirect, and the
// not-running page of /hub/user/NAME/... (where the proxy sends a path it has no route for).
import { Hono } from 'hono'
import { Forbidden, HubError, NotFound, SpawnThrottled } from '../../../runtime/src/errors'
import type { HubEnv } from '../http/env'
import { safeNext } from '../http/respond'
import { progressUrl, routeKey, serverBaseUrl, spawnPendingUrl } from '../spawn/orchestrator'
import { checkServerName } from '../spawn/names'
import { NotRunningPage, SpawnPendingPage } from './home'
import { can, serverTarget } from '../http/authorize'
import { type C, REFUSALS, rawPath, rawQuery, form, spawnQueryOptions, onHost, landing, viewer } from './page-kit'
import { optionsFromForm, SpawnOptionsPage } from './spawn-options'
import type { Json, OptionsForm } from '../../../spawners/src'
import { waitFor } from '../../../runtime/src/wait'

/** How long a stop from a page is waited for to begin (its record `stopping`) before the page answers. */
const STOP_SHOWN_WITHIN_MS = 3000

export function serverPages(): Hono<HubEnv> {
  const app = new Hono<HubEnv>()

  /** The server a page acts on, when the visitor's scopes allow `scope` on it (their own always do). */
  const ownerAndServer = async (c: C, scope: 'start:servers' | 'delete:servers' | 'read:servers' = 'read:servers') => {
    const owner = c.req.param('user') ?? c.var.identity!.user.name
    const server = checkServerName(c.req.param('server') ?? '')
    if (!can(c, scope, await serverTarget(c, owner, server, scope)))
      throw new Forbidden(`you may not start or stop ${owner}'s server`)
    return { owner, server }
  }

  /** The spawn-pending page of a server, with where to go once it is ready ('' for the server itself). */
  const pendingUrl = (owner: string, server: string, next: string) =>
    spawnPendingUrl(owner, server) + (next ? `?next=${encodeURIComponent(next)}` : '')
  /** The same, keeping the request's next (a local path). */
  const pendingWithNext = (c: C, owner: string, server: string) =>
    pendingUrl(owner, server, safeNext(c.req.query('next'), ''))

  /** The spawner's options form for the server's owner (their groups decide the profiles), if it has one. */
  const offeredTo = async (c: C, owner: string): Promise<OptionsForm | undefined> => {
    const d = c.var.deps
    if (!d.spawner.optionsForm) return undefined
    const [record, groups] = await Promise.all([d.users.get(owner), d.groups.ofUser(owner)])
    return d.spawner.optionsForm({ name: owner, groups, admin: record?.admin ?? false })
  }
  const optionsPage = (
    c: C,
    p: { owner: string; server: string; offered: OptionsForm; error?: string; chosen?: string },
  ) =>
    c.html(
      <SpawnOptionsPage
        xsrf={c.var.xsrf}
        user={viewer(c)!}
        {...p}
        form={p.offered}
        next={safeNext(c.req.query('next'), '')}
      />,
      p.error ? 400 : 200,
    )

  /**
   * Starts a server from a page: with the options a spawn link's query gives, or the spawner's form
   * posted (`posted`). A spawner with an options form shows it first when no choice came with the
   * request (JupyterHub's spawn page), and again with the reason when a choice is refused.
   */
  const spawn = async (c: C, posted?: Record<string, string>) => {
    const { owner, server } = await ownerAndServer(c, 'start:servers')
    const d = c.var.deps
    const rec = await d.servers.get(owner, server)
    const pending = pendingWithNext(c, owner, server)
    if (rec?.state === 'running') return c.redirect(safeNext(c.req.query('next'), landing(c, owner, server)))
    if (rec?.state === 'pending') return c.redirect(pending)
    if (!(await d.users.get(owner))) throw new NotFound(`user ${owner} not found`)
    let options: { [k: string]: Json } | null = spawnQueryOptions(c)
    const offered = await offeredTo(c, owner)
    if (offered) {
      const chosen = posted && optionsFromForm(posted, offered)
      if (chosen) options = chosen
      else if (!options) return optionsPage(c, { owner, server, offered })
    }
    // Start in the background; the pending page follows progress. Too many spawns in progress is
    // JupyterHub's 429 page, so it is waited for (it is decided before the spawn begins).
    try {
      await d.orchestrator.start(owner, server, options, { waitSec: 0 })
    } catch (err) {
      if (offered && err instanceof HubError && err.code === 'bad_option')
        return optionsPage(c, { owner, server, offered, error: err.message, chosen: posted?.profile })
      // refused by a rule the person should read (the limit of named servers, named servers off);
      // a start racing another one (already pending or running) just follows that one
      if (err instanceof SpawnThrottled || (err instanceof HubError && REFUSALS.has(err.code))) throw err
      d.log.info('spawn request not started', { user: owner, err: (err as Error).message })
    }
    return c.redirect(pending)
  }
  app.get('/spawn', (c) => spawn(c)) // your own default server (its options form first, when the spawner has one)
  // Anyone else's (or a named) server needs the POST from the not-running page, so a link cannot start it.
  app.get('/spawn/:user/:server?', async (c) => {
    const { owner, server } = await ownerAndServer(c, 'start:servers')
    if (owner === c.var.identity!.user.name && !server) return spawn(c)
    const rec = await c.var.deps.servers.get(owner, server)
    if (rec?.state === 'running') return c.redirect(safeNext(c.req.query('next'), landing(c, owner, server)))
    if (rec?.state === 'pending') return c.redirect(pendingWithNext(c, owner, server))
    // the options form posts, so it is this page too when the spawner has one
    const offered = await offeredTo(c, owner)
    if (offered) return optionsPage(c, { owner, server, offered })
    // this server's own start page (not /hub/user/…/SERVER/, which the default server answers when running)
    return c.html(
      <NotRunningPage
        xsrf={c.var.xsrf}
        user={viewer(c)!}
        owner={owner}
        server={server}
        rec={rec}
        path={safeNext(c.req.query('next'), serverBaseUrl(owner, server))}
      />,
    )
  })
  app.post('/spawn', async (c) => spawn(c, await form(c)))
  app.post('/spawn/:user/:server?', async (c) => spawn(c, await form(c)))

  // A stop goes on in the background once it has begun (the record says `stopping`): the home page
  // shows the stop pending and follows it, as JupyterHub's does. A refusal that comes first (another
  // start or stop holds the server) is the page's answer.
  const stop = async (c: C) => {
    await form(c)
    const { owner, server } = await ownerAndServer(c, 'delete:servers')
    const d = c.var.deps
    const done = d.orchestrator.stop(owner, server).then(
      () => null,
      (err: Error) => err,
    )
    const begun = waitFor(
      `the stop of ${owner}/${server} to begin`,
      async () => (await d.servers.get(owner, server))?.state !== 'running',
      { timeoutMs: STOP_SHOWN_WITHIN_MS, intervalMs: 25 },
    ).then(
      () => null,
      () => null,
    )
    const first = await Promise.race([done, begun])
    if (first) throw first
    void done.then((err) => err && d.log.warn('stop from a page failed', { user: owner, server, err: err.message }))
    return c.redirect(c.var.identity!.user.name === owner ? '/hub/home' : '/hub/admin')
  }
  app.post('/stop', stop)
  app.post('/stop/:user/:server?', stop)

  // Deleting a named server (JupyterHub's DELETE …/servers/NAME with remove): stopped first when it
  // runs, then forgotten with its shares and share codes. The default server cannot be deleted.
  app.post('/delete/:user/:server', async (c) => {
    await form(c)
    const { owner, server } = await ownerAndServer(c, 'delete:servers')
    const d = c.var.deps
    if (!(await d.servers.get(owner, server))) throw new NotFound(`${owner} has no server named ${server}`)
    await d.orchestrator.stop(owner, server, { remove: true })
    d.log.info('server deleted from a page', { user: owner, server, by: c.var.identity!.user.name })
    return c.redirect(c.var.identity!.user.name === owner ? '/hub/home' : '/hub/admin')
  })

  app.get('/spawn-pending/:user/:server?', async (c) => {
    const { owner, server } = await ownerAndServer(c)
    const rec = await c.var.deps.servers.get(owner, server)
    const next = safeNext(c.req.query('next'), '')
    if (rec?.state === 'running') return c.redirect(next || landing(c, owner, server))
    if (!rec || (rec.state === 'stopped' && !rec.failed)) return c.redirect('/hub/home')
    return c.html(
      <SpawnPendingPage
        user={viewer(c)!}
        owner={owner}
        server={server}
        progressUrl={progressUrl(owner, server)}
        serverUrl={landing(c, owner, server)}
        next={next}
      />,
    )
  })

  // JupyterHub's /hub/user-redirect/PATH: a link that works for whoever follows it (nbgitpuller and
  // course material use it) goes to /user/NAME/PATH of the logged-in user, query included.
  app.get('/user-redirect/*', (c) => {
    const rest = rawPath(c).slice('/hub/user-redirect/'.length)
    const query = rawQuery(c)
    const name = c.var.identity!.user.name
    return c.redirect(onHost(c, name, `${serverBaseUrl(name, '')}${rest.replace(/^\/+/, '')}${query}`))
  })

  // The proxy sends /user/NAME/... here when it has no route for it.
  app.get('/user/:user/*', async (c) => {
    const d = c.var.deps
    const owner = decodeURIComponent(c.req.param('user'))
    const id = c.var.identity!
    const rest = c.req.path.slice(`/hub/user/${c.req.param('user')}/`.length)
    const servers = await d.servers.list(owner)
    const named = servers.find((s) => s.name && rest.startsWith(`${encodeURIComponent(s.name)}/`))
    const rec = named ?? (await d.servers.get(owner, ''))
    const server = rec?.name ?? ''
    const allowed =
      owner === id.user.name || can(c, 'access:servers', await serverTarget(c, owner, server, 'access:servers'))
    if (!allowed) throw new Forbidden(`you are logged in as ${id.user.name} and may not use ${owner}'s server`)
    const path = rawPath(c).slice('/hub'.length) + rawQuery(c)
    if (rec?.state === 'running' && c.req.query('redirects') === undefined) {
      // Running, but this proxy had no route yet (it was just written): send the browser back once.
      const route = await d.tables.get('routes', routeKey(owner, server))
      const url = new URL(c.req.url)
      url.searchParams.set('redirects', '1')
      if (route) return c.redirect(`${rawPath(c).slice('/hub'.length)}${url.search}`)
    }
    if (rec?.state === 'pending') return c.redirect(pendingUrl(owner, server, path))
    return c.html(
      <NotRunningPage xsrf={c.var.xsrf} user={viewer(c)!} owner={owner} server={server} rec={rec} path={path} />,
      424,
    )
  })
  return app
}
