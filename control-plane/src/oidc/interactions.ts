// The provider's interaction page, /hub/oidc/interaction/:uid. Login: the browser's hub session is
// the login (without one, the hub's login page comes first and sends the browser back here). Consent:
// every client is registered by the operator, so the scopes it asks for (within its allowedScopes)
// are granted without asking the user.
import { Hono, type Context } from 'hono'
import type { InteractionResults } from 'oidc-provider'
import { isAllowed } from '../../../auth/src'
import type { Deps } from '../deps'
import { BadRequest } from '../../../runtime/src/errors'
import type { HubEnv } from '../http/env'
import { sessionCookieValue } from '../sessions/cookie'
import { currentProvider } from './current'
import { nodeRequest, scratchResponse } from './node-bridge'
import { issuerOf, OIDC_MOUNT, type Provider } from './provider'

type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>

/** oidc-provider's own refusals (expired interaction, missing cookie) are the user's to read. */
function userError(err: unknown): never {
  const e = err as { statusCode?: number; error?: string; error_description?: string }
  if (e && typeof e.statusCode === 'number' && e.statusCode < 500 && e.error) {
    throw new BadRequest(
      `this login request has expired or was already used (${e.error_description ?? e.error}); go back to the application and start again`,
      e.error,
    )
  }
  throw err
}

async function grantRequested(provider: Provider, interaction: Interaction): Promise<string> {
  const { prompt, params, session, grantId } = interaction
  const clientId = String(params.client_id ?? '')
  if (!session?.accountId || !(await provider.Client.find(clientId)))
    throw new BadRequest('unknown client or no login', 'invalid_request')
  const grant =
    (grantId && (await provider.Grant.find(grantId))) || new provider.Grant({ accountId: session.accountId, clientId })
  const details = prompt.details as {
    missingOIDCScope?: string[]
    missingOIDCClaims?: string[]
    missingResourceScopes?: Record<string, string[]>
  }
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '))
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims)
  for (const [resource, scopes] of Object.entries(details.missingResourceScopes ?? {}))
    grant.addResourceScope(resource, scopes.join(' '))
  return grant.save()
}

async function interaction(c: Context<HubEnv>, d: Deps) {
  const req = nodeRequest(c, issuerOf(d))
  const { provider } = await currentProvider(d)
  const details = await provider.interactionDetails(req, scratchResponse(req)).catch(userError)
  if (details.uid !== c.req.param('uid'))
    throw new BadRequest(
      'this login request belongs to another window; go back to the application and start again',
      'invalid_request',
    )
  let result: InteractionResults
  switch (details.prompt.name) {
    case 'login': {
      const session = await d.sessions.verify(sessionCookieValue(c.req.header('cookie')))
      const user = session && (await d.users.get(session.user))
      if (!user) return c.redirect(`/hub/login?next=${encodeURIComponent(`${OIDC_MOUNT}/interaction/${details.uid}`)}`)
      result =
        user.approved && isAllowed(d.config.auth, user.name)
          ? { login: { accountId: user.name } }
          : { error: 'access_denied', error_description: 'this user may not log in' }
      break
    }
    case 'consent':
      result = { consent: { grantId: await grantRequested(provider, details) } }
      break
    default:
      result = {
        error: 'access_denied',
        error_description: `the hub cannot complete the ${details.prompt.name} prompt`,
      }
  }
  const returnTo = await provider
    .interactionResult(req, scratchResponse(req), result, { mergeWithLastSubmission: details.prompt.name !== 'login' })
    .catch(userError)
  return c.redirect(returnTo, 303)
}

export function interactionRoutes(d: Deps): Hono<HubEnv> {
  const app = new Hono<HubEnv>()
  app.get('/:uid', (c) => interaction(c, d))
  return app
}
