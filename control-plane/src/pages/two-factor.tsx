// /hub/two-factor: a user turns their second factor (an authenticator app's codes) on or off, when
// the authenticator offers one (auth.native.allow2fa).
import { Hono } from 'hono'
import { HubError, NotFound } from '../../../runtime/src/errors'
import type { HubEnv } from '../http/env'
import { Layout, XsrfField } from './layout'
import { form, viewer, type C } from './page-kit'

function TwoFactorPage(p: {
  xsrf: string
  user: { name: string; admin: boolean }
  enabled: boolean
  proposal?: { secret: string; uri: string }
  error?: string
  notice?: string
}) {
  return (
    <Layout title="Two-factor authentication" user={p.user}>
      <div class="card" style="max-width:560px;margin:0 auto">
        <h1>Two-factor authentication</h1>
        {p.notice ? <div class="notice">{p.notice}</div> : null}
        {p.error ? (
          <div class="error" role="alert">
            {p.error}
          </div>
        ) : null}
        {p.enabled ? (
          <form method="post" action="/hub/two-factor">
            <p id="status">
              It is <strong>on</strong>: logging in asks for a code from your authenticator app.
            </p>
            <XsrfField value={p.xsrf} />
            <input type="hidden" name="action" value="disable" />
            <label for="code">A current code, to turn it off</label>
            <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required />
            <button type="submit" class="danger">
              Turn off
            </button>
          </form>
        ) : (
          <form method="post" action="/hub/two-factor">
            <p id="status">
              It is <strong>off</strong>. Add this key to an authenticator app (or open the address on your phone), then
              give the code it shows.
            </p>
            <p class="muted">Key</p>
            <pre id="secret">{p.proposal!.secret}</pre>
            <p class="muted">Address</p>
            <pre id="otpauth" tabindex={0}>
              {p.proposal!.uri}
            </pre>
            <XsrfField value={p.xsrf} />
            <input type="hidden" name="action" value="enable" />
            <input type="hidden" name="secret" value={p.proposal!.secret} />
            <label for="code">Code from the app</label>
            <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required />
            <button type="submit">Turn on</button>
          </form>
        )}
      </div>
    </Layout>
  )
}

export function twoFactorPages(): Hono<HubEnv> {
  const app = new Hono<HubEnv>()
  const factor = (c: C) => {
    const f = c.var.deps.authenticator.secondFactor
    if (!f) throw new NotFound('this hub offers no second factor')
    return f
  }
  const page = async (
    c: C,
    extra: { error?: string; notice?: string; secret?: string } = {},
    status: 200 | 400 = 200,
  ) => {
    const f = factor(c)
    const name = c.var.identity!.user.name
    const enabled = await f.enabled(name)
    const proposal = enabled
      ? undefined
      : extra.secret
        ? { secret: extra.secret, uri: f.proposal(name).uri.replace(/secret=[A-Z2-7]+/, `secret=${extra.secret}`) }
        : f.proposal(name)
    return c.html(
      <TwoFactorPage xsrf={c.var.xsrf} user={viewer(c)!} enabled={enabled} proposal={proposal} {...extra} />,
      status,
    )
  }
  app.get('/two-factor', (c) => page(c))
  app.post('/two-factor', async (c) => {
    const f = factor(c)
    const fields = await form(c)
    const name = c.var.identity!.user.name
    try {
      if (fields.action === 'enable') {
        await f.enable(name, fields.secret ?? '', fields.code ?? '')
        // other logins made without the second factor end
        await c.var.deps.sessions.revokeAll(name, { except: c.var.identity!.sid })
        return page(c, { notice: 'Two-factor authentication is on.' })
      }
      if (fields.action === 'disable') {
        await f.disable(name, fields.code ?? '')
        return page(c, { notice: 'Two-factor authentication is off.' })
      }
      return page(c, { error: 'Unknown action.' }, 400)
    } catch (err) {
      if (!(err instanceof HubError) || !err.expose) throw err
      // the same key again after a wrong code, so the app's entry stays valid
      const secret = /^[A-Z2-7]{32}$/.test(fields.secret ?? '') ? fields.secret : undefined
      return page(c, { error: err.message, secret }, 400)
    }
  })
  return app
}
