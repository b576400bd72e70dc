// /hub/token: a user's API tokens — request one (note, lifetime, scopes), see it once, revoke any —
// and the applications the user has authorised (OAuth clients holding tokens of theirs), each revoked
// as a whole.
import type { TokenRecord } from '../state/tokens'
import { ago } from './home'
import { Layout, XsrfField } from './layout'

const LIFETIMES: Array<[number, string]> = [
  [3600, '1 hour'],
  [86400, '1 day'],
  [604800, '1 week'],
  [2592000, '30 days'],
]

/** The longest note a token may have (the REST API's bound). */
export const TOKEN_NOTE_MAX = 1000

/** A lifetime in words: "36 hours", "10 days". */
function spelled(sec: number): string {
  const [n, unit] = sec % 86400 === 0 ? [sec / 86400, 'day'] : sec % 3600 === 0 ? [sec / 3600, 'hour'] : [sec, 'second']
  return `${n} ${unit}${n === 1 ? '' : 's'}`
}

/** The lifetimes offered: those within the maximum, then the maximum itself (empty value), or "never" without one. */
function lifetimeOptions(maxSec: number): Array<[string, string]> {
  const within = LIFETIMES.filter(([v]) => !maxSec || v < maxSec).map(([v, label]): [string, string] => [
    String(v),
    label,
  ])
  return [...within, ['', maxSec ? `Max (${spelled(maxSec)})` : 'never']]
}

/** What the request form held: shown again when it is refused, so nothing typed is lost. */
export interface TokenForm {
  note?: string
  expires_in?: string
  scopes?: string
}

/**
 * An application the user has authorised: a JupyterHub OAuth client with tokens of theirs, or a client
 * of the hub's OpenID Connect provider with a grant of theirs.
 */
export interface AuthorizedApp {
  clientId: string
  /** How the client names itself (its description), else its id. */
  name: string
  kind: 'oauth' | 'oidc'
  /** The latest use of its tokens (OAuth clients; unknown for OIDC grants). */
  lastUsed: string | null
  firstAuthorized: string | null
  /** Where the revoke form posts. */
  revokeAction: string
}

const When = (p: { at: string | null; never?: string }) =>
  p.at ? (
    <time datetime={p.at} title={p.at}>
      {ago(p.at)}
    </time>
  ) : (
    <span class="muted">{p.never ?? 'never'}</span>
  )

/** The latest of ISO times, or null. */
export const latestOf = (times: Array<string | null>) =>
  times.filter((t): t is string => !!t).sort((a, b) => b.localeCompare(a))[0] ?? null

export function TokenPage(p: {
  xsrf: string
  user: { name: string; admin: boolean }
  tokens: TokenRecord[]
  apps?: AuthorizedApp[]
  maxSec: number
  created?: string
  error?: string
  notice?: string
  form?: TokenForm
}) {
  const api = p.tokens.filter((t) => t.kind === 'api' && !t.clientId)
  const f = p.form ?? {}
  const options = lifetimeOptions(p.maxSec)
  const chosen = options.some(([v]) => v === f.expires_in) ? f.expires_in : options[options.length - 1][0]
  return (
    <Layout title="API tokens" user={p.user}>
      <div class="card">
        <h1>Request an API token</h1>
        {p.error ? (
          <div class="error" role="alert" id="token-error">
            {p.error}
          </div>
        ) : null}
        {p.notice ? (
          <div class="notice" role="status" id="token-notice">
            {p.notice}
          </div>
        ) : null}
        {p.created ? (
          <div class="notice" role="status">
            Your new token, shown only now: <code id="new-token">{p.created}</code>
            <br />
            Use it as <code>Authorization: token …</code>.
          </div>
        ) : null}
        <form method="post" action="/hub/token" id="token-form">
          <XsrfField value={p.xsrf} />
          <label for="note">Note</label>
          <input
            type="text"
            id="note"
            name="note"
            maxlength={TOKEN_NOTE_MAX}
            placeholder="what it is for"
            value={f.note ?? ''}
          />
          <label for="expires_in">Expires in</label>
          <select id="expires_in" name="expires_in">
            {options.map(([v, label]) => (
              <option value={v} selected={v === chosen}>
                {label}
              </option>
            ))}
          </select>
          <label for="scopes">Scopes</label>
          <input
            type="text"
            id="scopes"
            name="scopes"
            placeholder="read:users!user access:servers!server=…"
            value={f.scopes ?? ''}
            aria-describedby="scopes-help"
          />
          <p class="muted" id="scopes-help">
            Separated by spaces; empty: everything you may do. For example <code>read:users!user</code> (your own user
            model) or <code>access:servers!user</code> (your servers). Only scopes you hold can be given.
          </p>
          <button type="submit" id="request-token">
            Request new API token
          </button>
        </form>
      </div>
      <div class="card" id="api-tokens">
        <h1>API tokens</h1>
        {api.length ? (
          <table>
            <thead>
              <tr>
                <th scope="col">Note</th>
                <th scope="col">Scopes</th>
                <th scope="col">Last used</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {api.map((t) => (
                <tr data-token={t.id}>
                  <td>{t.note || '—'}</td>
                  <td class="muted">{t.scopes.join(' ')}</td>
                  <td>
                    <When at={t.lastActivity} />
                  </td>
                  <td>
                    <When at={t.created || null} />
                  </td>
                  <td class="muted">{t.expiresAt ?? 'never'}</td>
                  <td>
                    <form method="post" action={`/hub/token/${encodeURIComponent(t.id)}/revoke`}>
                      <XsrfField value={p.xsrf} />
                      <button
                        class="danger"
                        type="submit"
                        style="margin:0"
                        aria-label={`Revoke token ${t.note || t.id}`}
                      >
                        Revoke
                      </button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p class="muted">No API tokens.</p>
        )}
      </div>
      <div class="card" id="authorized-apps">
        <h1>Authorized applications</h1>
        {p.apps?.length ? (
          <table>
            <thead>
              <tr>
                <th scope="col">Application</th>
                <th scope="col">Last used</th>
                <th scope="col">First authorized</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {p.apps.map((a) => (
                <tr data-client={a.clientId} data-kind={a.kind}>
                  <td>
                    {a.name}
                    {a.name !== a.clientId ? <span class="muted"> ({a.clientId})</span> : null}
                    {a.kind === 'oidc' ? <span class="muted"> · OpenID Connect</span> : null}
                  </td>
                  <td>
                    <When at={a.lastUsed} never={a.kind === 'oidc' ? 'not recorded' : 'never'} />
                  </td>
                  <td>
                    <When at={a.firstAuthorized} />
                  </td>
                  <td>
                    <form method="post" action={a.revokeAction}>
                      <XsrfField value={p.xsrf} />
                      <button class="danger" type="submit" style="margin:0" aria-label={`Revoke ${a.name}`}>
                        Revoke
                      </button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p class="muted">No application holds a token of yours.</p>
        )}
        <p class="muted">
          Revoking an application ends its access at once: every token it holds for you stops working.
        </p>
      </div>
    </Layout>
  )
}
