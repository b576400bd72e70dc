// The hub on the admin page: versions, plug-ins, the replica that leads the background jobs, and the
// proxies' change stream, as Redis records them (read:hub, as GET /hub/api/info).
import { Hono } from 'hono'
import type { HubEnv } from '../http/env'
import { Forbidden } from '../../../runtime/src/errors'
import { can } from '../http/authorize'
import { JUPYTERHUB_API_VERSION, VERSION } from '../version'
import { Layout } from './layout'
import { viewer } from './page-kit'
import { AdminNav, AdminStyle, count, needAdminUi } from './admin-kit'

export interface HubInfo {
  version: string
  apiVersion: string
  authenticator: string
  spawner: string
  leader: string | null
  users: number
  groups: number
  activeServers: number
  pendingSpawns: number
  proxyVersion: number
  /** The oldest version the change stream still holds: a proxy behind it resyncs in full. */
  oldestKept: number | null
  streamLength: number
}

export function AdminHubPage(p: { user: { name: string; admin: boolean }; info: HubInfo }) {
  const i = p.info
  return (
    <Layout title="Admin: hub" user={p.user}>
      <AdminStyle />
      <AdminNav current="hub" />
      <div class="card">
        <h1>Hub</h1>
        <dl class="info" id="hub-info">
          <dt>edgehub version</dt>
          <dd>{i.version}</dd>
          <dt>JupyterHub API version</dt>
          <dd>{i.apiVersion}</dd>
          <dt>Authenticator</dt>
          <dd>{i.authenticator}</dd>
          <dt>Spawner</dt>
          <dd>{i.spawner}</dd>
          <dt>Users</dt>
          <dd>{count(i.users)}</dd>
          <dt>Groups</dt>
          <dd>{count(i.groups)}</dd>
          <dt>Active servers</dt>
          <dd>{count(i.activeServers)}</dd>
          <dt>Spawns in progress</dt>
          <dd>{count(i.pendingSpawns)}</dd>
        </dl>
      </div>
      <div class="card">
        <h2>Replicas</h2>
        <dl class="info" id="replicas">
          <dt>Leader (runs the background jobs)</dt>
          <dd>{i.leader ?? 'none right now: a replica takes over within seconds'}</dd>
        </dl>
        <p class="muted">
          Every hub replica answers the same pages and API; the leader holds a 5-second lease in Redis, renewed every
          second. Each replica reports its own id and whether it leads at <code>/hub/health</code>.
        </p>
      </div>
      <div class="card">
        <h2>Proxies</h2>
        <dl class="info" id="proxies">
          <dt>Routing table version</dt>
          <dd>{count(i.proxyVersion)}</dd>
          <dt>Oldest change kept</dt>
          <dd>{i.oldestKept === null ? '—' : `version ${count(i.oldestKept)}`}</dd>
          <dt>Changes kept for proxies catching up</dt>
          <dd>{count(i.streamLength)}</dd>
        </dl>
        <p class="muted">
          Proxies follow the change stream; each answers <code>/_edgehub/proxy/health?applied=N</code> with when it
          applied version N, its sync lag. Redis keeps no list of the proxies, so they are not listed here.
        </p>
      </div>
    </Layout>
  )
}

export function adminHubPage(): Hono<HubEnv> {
  const app = new Hono<HubEnv>()
  app.get('/admin/hub', async (c) => {
    needAdminUi(c)
    if (!can(c, 'read:hub')) throw new Forbidden('the hub page needs the read:hub scope')
    const d = c.var.deps
    const k = d.keys
    const [leader, users, groups, active, pending, version, oldest, length] = await Promise.all([
      d.redis.get(k.leader),
      d.redis.zcard(k.users),
      d.redis.zcard(k.groups),
      d.redis.scard(k.runningServers),
      d.redis.zcard(k.pendingSpawns),
      d.redis.get(k.proxyVersion),
      d.redis.xrange(k.proxyChanges, '-', '+', 'COUNT', 1),
      d.redis.xlen(k.proxyChanges),
    ])
    // a change's stream id is <version>-0 (docs/redis-schema.md)
    const id = oldest[0]?.[0]
    return c.html(
      <AdminHubPage
        user={viewer(c)!}
        info={{
          version: VERSION,
          apiVersion: JUPYTERHUB_API_VERSION,
          authenticator: d.config.auth.kind,
          spawner: d.config.spawner.kind,
          leader,
          users,
          groups,
          activeServers: active,
          pendingSpawns: pending,
          proxyVersion: Number(version ?? 0),
          oldestKept: id ? Number(id.split('-')[0]) : null,
          streamLength: length,
        }}
      />,
    )
  })
  return app
}
