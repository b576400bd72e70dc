// /hub/oidc: the OpenID Connect provider in the hub. The interaction page is the hub's (interactions.ts);
// every other request goes to oidc-provider (node-bridge.ts). Mounted ahead of the hub's /hub/*
// middleware: clients post to the token endpoint without an XSRF token or a hub session, bearer
// tokens here are OIDC access tokens (not hub API tokens), and oidc-provider reads and limits
// request bodies itself.
import { Hono } from 'hono'
import type { Deps } from '../deps'
import { NotFound } from '../../../runtime/src/errors'
import type { HubEnv } from '../http/env'
import { currentProvider } from './current'
import { interactionRoutes } from './interactions'
import { nodeRequest, runKoa } from './node-bridge'
import { issuerOf, OIDC_MOUNT } from './provider'

export function oidcRoutes(d: Deps): Hono<HubEnv> {
  const app = new Hono<HubEnv>()
  if (!d.config.oidc.enabled) return app
  if (!d.config.publicUrl && d.config.oidc.clients.length > 0) {
    d.log
      .child('oidc')
      .warn(
        `oidc issuer is ${issuerOf(d)}, made from host and port: set publicUrl to the URL users see before registering clients`,
      )
  }
  app.route('/interaction', interactionRoutes(d))
  app.all('*', async (c) => {
    const req = nodeRequest(c, issuerOf(d))
    const url = req.url ?? ''
    if (!/^\/hub\/oidc(?:[/?]|$)/.test(url)) throw new NotFound(`There is nothing at ${c.req.path}.`)
    const { provider } = await currentProvider(d)
    // as when mounted in Express: the provider sees its own paths, originalUrl keeps the full one
    req.originalUrl = url
    req.url = url.slice(OIDC_MOUNT.length) || '/'
    return runKoa(provider, req)
  })
  return app
}
