// The few pages oidc-provider itself shows a browser, in the hub's look: an error it cannot send back
// to the client (a bad redirect_uri, an unknown client), and the RP-initiated logout prompt.
import { raw } from 'hono/html'
import type { ErrorOut, KoaContextWithOIDC } from 'oidc-provider'
import { ErrorPage } from '../pages/error-page'
import { Layout } from '../pages/layout'

/**
 * A redirect URI that does not match is OAuth's invalid_request (RFC 6749 §4.1.2.1); oidc-provider
 * names it after dynamic registration's invalid_redirect_uri, and maps it so itself for PAR.
 */
export function wireError(error: string): string {
  return error === 'invalid_redirect_uri' ? 'invalid_request' : error
}

export async function renderError(ctx: KoaContextWithOIDC, out: ErrorOut): Promise<void> {
  const message = `${wireError(out.error)}: ${out.error_description ?? 'the request was refused'}`
  ctx.type = 'html'
  ctx.body = `<!DOCTYPE html>${await (<ErrorPage status={ctx.status} message={message} />).toString()}`
}

export async function logoutSource(ctx: KoaContextWithOIDC, form: string): Promise<void> {
  const client = ctx.oidc.client?.clientName ?? ctx.oidc.client?.clientId
  ctx.type = 'html'
  ctx.body =
    '<!DOCTYPE html>' +
    (await (
      <Layout title="Log out">
        <div class="card" style="max-width:480px;margin:0 auto">
          <h1>Log out{client ? ` of ${client}` : ''}?</h1>
          {raw(form)}
          <div class="row">
            <button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>
              Yes, log out
            </button>
            <button type="submit" form="op.logoutForm" class="secondary">
              No, stay logged in
            </button>
          </div>
        </div>
      </Layout>
    ).toString())
}

export async function postLogoutSuccessSource(ctx: KoaContextWithOIDC): Promise<void> {
  ctx.type = 'html'
  ctx.body =
    '<!DOCTYPE html>' +
    (await (
      <Layout title="Logged out">
        <div class="card" style="max-width:480px;margin:0 auto">
          <h1>You have logged out of the application.</h1>
          <p class="muted">
            <a href="/hub/home">Back to the hub</a>
          </p>
        </div>
      </Layout>
    ).toString())
}
