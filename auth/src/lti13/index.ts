// lti13: launches from a learning platform (Canvas, Moodle) with LTI 1.3, as JupyterHub's
// ltiauthenticator LTI13Authenticator. The platform begins the login (third-party initiated login
// at /hub/lti13/oauth_login, served by control-plane/src/pages/lti-pages.tsx): begin() checks its
// issuer and client id and answers the platform's authorization URL (an implicit id_token request,
// form_post, prompt=none) with a fresh nonce kept in the hub's flow; the platform then posts the
// signed id_token to /hub/lti13/oauth_callback, and complete() checks it (launch.ts) and reads the
// user, their course groups and the launch's claims (claims.ts).
import { randomBytes } from 'node:crypto'
import { HubError } from '../../../runtime/src/errors'
import type { Authenticator, Json } from '../authenticator'
import { courseGroups, launchState, usernameFrom } from './claims'
import { platformKeys, verifyLaunch } from './launch'
import type { Lti13Settings } from './settings'

/** The platform's login initiation parameters (LTI Core 4.1: iss, login_hint, lti_message_hint, client_id, ...). */
export type LoginInitiation = Record<string, string>

/**
 * What begin() is given: the hub's state and callback URL and, when the platform began the login,
 * its initiation parameters (lti-pages.tsx passes them; the login page's button has none).
 */
export interface LtiBeginInput {
  state: string
  callbackUrl: string
  initiation?: LoginInitiation
}

/** The launch URL (redirect_uri) for a callback URL: PUBLICURL/hub/lti13/oauth_callback. */
export function launchUrlOf(callbackUrl: string): string {
  return callbackUrl.endsWith('/lti13/oauth_callback') ? callbackUrl : new URL('lti13/oauth_callback', callbackUrl).href
}

const badInitiation = (why: string) =>
  new HubError(400, `This login from a course platform could not begin: ${why}. Open the hub from your course again.`)

export function createLti13Authenticator(s: Lti13Settings): Authenticator {
  const keys = platformKeys(s)

  /** The client id to ask for: the one the platform named (when it is ours), else the first configured. */
  function clientIdFor(initiation: LoginInitiation | undefined): string | undefined {
    const asked = initiation?.client_id
    if (asked !== undefined && !s.clientIds.includes(asked)) throw badInitiation('it names an unknown client id')
    return asked ?? s.clientIds[0]
  }

  return {
    kind: 'lti13',
    passwordForm: false,
    loginNotice: 'Logins to this hub begin in your course: open the hub from there.',
    async authenticate() {
      return null // launches come from the platform
    },
    redirect: {
      label: s.label,
      auto: false,
      async begin(input: LtiBeginInput) {
        const init = input.initiation
        if (!s.authorizeUrl || !s.issuer)
          throw new HubError(500, 'auth.lti13 is not configured', 'error', { expose: false })
        if (init) {
          if (init.iss !== s.issuer) throw badInitiation('it comes from a platform this hub does not know (iss)')
          if (!init.login_hint) throw badInitiation('it carries no login_hint')
          if (init.lti_deployment_id !== undefined && !s.deploymentIds.includes(init.lti_deployment_id))
            throw badInitiation('it comes from a deployment of the tool this hub does not take')
        }
        const clientId = clientIdFor(init)!
        const nonce = randomBytes(24).toString('base64url')
        const url = new URL(s.authorizeUrl)
        const params: Record<string, string> = {
          scope: 'openid',
          response_type: 'id_token',
          response_mode: 'form_post',
          prompt: 'none',
          client_id: clientId,
          redirect_uri: launchUrlOf(input.callbackUrl),
          state: input.state,
          nonce,
        }
        if (init?.login_hint) params.login_hint = init.login_hint
        if (init?.lti_message_hint) params.lti_message_hint = init.lti_message_hint
        for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v)
        const flow: { [k: string]: Json } = { nonce, clientId }
        return { url: url.href, flow }
      },
      async complete({ params, flow }) {
        const idToken = params.get('id_token')
        if (!idToken)
          throw new HubError(403, 'Your course platform sent no id_token. Open the hub from your course again.')
        const claims = await verifyLaunch(s, keys, idToken, {
          nonce: String(flow.nonce),
          clientId: typeof flow.clientId === 'string' ? flow.clientId : undefined,
        })
        const state = launchState(claims)
        return {
          name: usernameFrom(claims, s.usernameClaim),
          groups: courseGroups(claims, s.groupPrefix),
          authState: state,
        }
      },
    },
  }
}
