// /hub/token: a user's API tokens — request one (note, lifetime, scopes), see it once, revoke any.
import type { TokenRecord } from '../state/tokens'
import { Layout, XsrfField } from './layout'

const LIFETIMES: Array<[number, string]> = [
  [3600, '1 hour'],
  [86400, '1 day'],
  [604800, '1 week'],
  [2592000, '30 days'],
]

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

export function TokenPage(p: {
  xsrf: string
  user: { name: string; admin: boolean }
  tokens: TokenRecord[]
  maxSec: number
  created?: string
  error?: string
}) {
  const api = p.tokens.filter((t) => t.kind === 'api' && !t.clientId)
  const authorized = p.tokens.filter((t) => t.clientId)
  return (
    <Layout title="API tokens" user={p.user}>
      <div class="card">
        <h1>Request an API token</h1>
        {p.error ? <div class="error">{p.error}</div> : null}
        {p.created ? (
          <div class="notice">
            Your new token, shown only now: <code id="new-token">{p.created}</code>
            <br />
            Use it as <code>Authorization: token …</code>.
          </div>
        ) : null}
        <form method="post" action="/hub/token">
          <XsrfField value={p.xsrf} />
          <label for="note">Note</label>
          <input type="text" id="note" name="note" placeholder="what it is for" />
          <label for="expires_in">Expires in</label>
          <select id="expires_in" name="expires_in">
            {lifetimeOptions(p.maxSec).map(([v, label]) => (
              <option value={v}>{label}</option>
            ))}
          </select>
          <label for="scopes">Scopes (space separated; empty: everything you may do)</label>
          <input type="text" id="scopes" name="scopes" placeholder="read:users!user=... access:servers!server=..." />
          <button type="submit">Request new API token</button>
        </form>
      </div>
      <div class="card">
        <h1>API tokens</h1>
        <TokenTable xsrf={p.xsrf} tokens={api} empty="No API tokens." />
      </div>
      <div class="card">
        <h1>Authorized applications</h1>
        <TokenTable xsrf={p.xsrf} tokens={authorized} empty="No application holds a token of yours." />
      </div>
    </Layout>
  )
}

function TokenTable(p: { xsrf: string; tokens: TokenRecord[]; empty: string }) {
  if (!p.tokens.length) return <p class="muted">{p.empty}</p>
  return (
    <table>
      <thead>
        <tr>
          <th>Note</th>
          <th>Scopes</th>
          <th>Last used</th>
          <th>Created</th>
          <th>Expires</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {p.tokens.map((t) => (
          <tr>
            <td>{t.note || '—'}</td>
            <td class="muted">{t.scopes.join(' ')}</td>
            <td class="muted">{t.lastActivity ?? 'never'}</td>
            <td class="muted">{t.created}</td>
            <td class="muted">{t.expiresAt ?? 'never'}</td>
            <td>
              <form method="post" action={`/hub/token/${encodeURIComponent(t.id)}/revoke`}>
                <XsrfField value={p.xsrf} />
                <button class="danger" type="submit" style="margin:0">
                  Revoke
                </button>
              </form>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}
