// The sharing page of one server, /hub/share/OWNER/[SERVER]: who has access (users, groups, share
// links) with a revoke button each, and the forms that share it with a user or group or make a link.
import type { ShareCodeRecord, ShareRecord } from '../state/shares'
import { serverBaseUrl } from '../spawn/orchestrator'
import { ago } from './home'
import { Layout, XsrfField } from './layout'

/** The lifetimes a share link may be given here (seconds), within the API's one minute to one year. */
export const LINK_LIFETIMES: ReadonlyArray<readonly [number, string]> = [
  [3600, '1 hour'],
  [86_400, '1 day'],
  [604_800, '1 week'],
  [2_592_000, '30 days'],
  [31_536_000, '1 year'],
]

/** What the sharing form held when it was refused: shown again as it was. */
export interface ShareForm {
  kind?: string
  name?: string
  expires_in?: string
}

/** Messages after a change, by the `done` query parameter (only these words reach the page). */
export const NOTICES: Record<string, string> = {
  shared: 'Shared.',
  revoked: 'Access revoked.',
  'link-revoked': 'Share link revoked: it can no longer be accepted.',
}

const When = (p: { at: string | null }) =>
  p.at ? (
    <time datetime={p.at} title={p.at}>
      {ago(p.at)}
    </time>
  ) : (
    <span class="muted">never</span>
  )

export function SharingPage(p: {
  xsrf: string
  user: { name: string; admin: boolean }
  owner: string
  server: string
  /** The page's own address, which its forms post to. */
  action: string
  /** The viewer holds `shares` on the server (else the page only lists). */
  mayShare: boolean
  running: boolean
  shares: ShareRecord[]
  codes: ShareCodeRecord[]
  error?: string
  notice?: string
  /** A link just made: shown this once (only its digest is kept). */
  newLink?: { url: string; expiresAt: string }
  form?: ShareForm
}) {
  const what = `${p.owner === p.user.name ? 'your' : `${p.owner}'s`} ${p.server ? `server ${p.server}` : 'default server'}`
  const f = p.form ?? {}
  const kind = f.kind === 'group' ? 'group' : 'user'
  return (
    <Layout title="Sharing" user={p.user}>
      <div class="card">
        <h1>Share {what}</h1>
        <p class="muted">
          Whoever you share it with can use the server at <code>{serverBaseUrl(p.owner, p.server)}</code> as you can:
          open notebooks, run code and see your files. The server is {p.running ? 'running' : 'not running now'}.
        </p>
        {p.error ? (
          <div class="error" role="alert" id="share-error">
            {p.error}
          </div>
        ) : null}
        {p.notice ? (
          <div class="notice" role="status" id="share-notice">
            {p.notice}
          </div>
        ) : null}
        {p.newLink ? (
          <div class="notice" id="new-link-box">
            <label for="new-link">Share link (shown only now; it works until {p.newLink.expiresAt})</label>
            <input type="text" id="new-link" readonly value={p.newLink.url} />
            <button type="button" class="secondary" id="copy-link" hidden>
              Copy link
            </button>
            <script
              dangerouslySetInnerHTML={{
                __html: `(() => { const b = document.getElementById('copy-link'), i = document.getElementById('new-link');
if (!navigator.clipboard) return; b.hidden = false;
b.addEventListener('click', () => navigator.clipboard.writeText(i.value).then(() => { b.textContent = 'Copied'; }, () => {})); })();`,
              }}
            />
          </div>
        ) : null}
        {p.mayShare ? null : (
          <p class="notice" id="not-allowed">
            Your roles do not let you share this server. An administrator can allow it (the <code>shares</code> scope).
          </p>
        )}
      </div>
      {p.mayShare ? (
        <div class="card">
          <h1>Share with a user or group</h1>
          <form method="post" action={p.action} id="share-form">
            <XsrfField value={p.xsrf} />
            <input type="hidden" name="action" value="grant" />
            <fieldset>
              <legend>Share with</legend>
              <label class="inline">
                <input type="radio" name="kind" value="user" checked={kind === 'user'} /> a user
              </label>
              <label class="inline">
                <input type="radio" name="kind" value="group" checked={kind === 'group'} /> a group
              </label>
            </fieldset>
            <label for="share-name">Name of the user or group</label>
            <input type="text" id="share-name" name="name" required maxlength={255} value={f.name ?? ''} />
            <button type="submit" id="share-submit">
              Share
            </button>
          </form>
        </div>
      ) : null}
      {p.mayShare ? (
        <div class="card">
          <h1>Create a share link</h1>
          <p class="muted">
            Anyone logged in to this hub who opens the link can accept it and use the server, until the link expires or
            you revoke it. Revoking a link does not take access from those who accepted it: revoke them below.
          </p>
          <form method="post" action={p.action} id="link-form">
            <XsrfField value={p.xsrf} />
            <input type="hidden" name="action" value="link" />
            <label for="link-expires">The link expires in</label>
            <select id="link-expires" name="expires_in">
              {LINK_LIFETIMES.map(([sec, label]) => (
                <option value={String(sec)} selected={f.expires_in ? f.expires_in === String(sec) : sec === 86_400}>
                  {label}
                </option>
              ))}
            </select>
            <button type="submit" id="link-submit">
              Create share link
            </button>
          </form>
        </div>
      ) : null}
      <div class="card" id="access">
        <h1>Who has access</h1>
        {p.shares.length ? (
          <table>
            <thead>
              <tr>
                <th scope="col">Shared with</th>
                <th scope="col">Since</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {p.shares.map((s) => (
                <tr data-share={`${s.kind}:${s.name}`}>
                  <td>
                    {s.kind === 'group' ? 'group ' : 'user '}
                    <strong>{s.name}</strong>
                  </td>
                  <td>
                    <When at={s.created || null} />
                  </td>
                  <td>
                    {p.mayShare ? (
                      <form method="post" action={p.action}>
                        <XsrfField value={p.xsrf} />
                        <input type="hidden" name="action" value="revoke" />
                        <input type="hidden" name="kind" value={s.kind} />
                        <input type="hidden" name="name" value={s.name} />
                        <button class="danger" type="submit" aria-label={`Revoke access of ${s.kind} ${s.name}`}>
                          Revoke
                        </button>
                      </form>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p class="muted">Nobody: this server is not shared.</p>
        )}
        <h2>Share links</h2>
        {p.codes.length ? (
          <table id="links">
            <thead>
              <tr>
                <th scope="col">Link</th>
                <th scope="col">Expires</th>
                <th scope="col">Accepted</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {p.codes.map((c) => (
                <tr data-link={c.id}>
                  <td>
                    {c.id}{' '}
                    <span class="muted">
                      (made <When at={c.created} />)
                    </span>
                  </td>
                  <td>
                    <time datetime={c.expiresAt}>{c.expiresAt}</time>
                  </td>
                  <td>
                    {c.exchangeCount} {c.exchangeCount === 1 ? 'time' : 'times'}
                    {c.lastExchangedAt ? (
                      <span class="muted">
                        , last <When at={c.lastExchangedAt} />
                      </span>
                    ) : null}
                  </td>
                  <td>
                    {p.mayShare ? (
                      <form method="post" action={p.action}>
                        <XsrfField value={p.xsrf} />
                        <input type="hidden" name="action" value="revoke-link" />
                        <input type="hidden" name="id" value={c.id} />
                        <button class="danger" type="submit" aria-label={`Revoke share link ${c.id}`}>
                          Revoke
                        </button>
                      </form>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p class="muted">No share links.</p>
        )}
      </div>
    </Layout>
  )
}
