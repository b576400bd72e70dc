import type { ServerRecord } from '../state/servers'
import type { Config } from '../config/schema'
import { serverBaseUrl, spawnPendingUrl } from '../spawn/orchestrator'
import { NEW_SERVER_NAME_MAX } from '../spawn/new-server-name'
import { Layout, XsrfField } from './layout'

/** A service as the home page links to it: its name and its prefix on the hub (JupyterHub's service.prefix). */
export interface ServiceLink {
  name: string
  href: string
}

/**
 * The services a user sees, as in JupyterHub (BaseHandler.get_accessible_services): those with a URL
 * (so with a route at /services/NAME/) and `display` (true unless set false), in the config's order.
 * The link is the service's prefix on the hub, never its internal URL.
 */
export function displayedServices(services: Config['services']): ServiceLink[] {
  return services
    .filter((s) => s.url && s.display)
    .map((s) => ({ name: s.name, href: `/services/${encodeURIComponent(s.name)}/` }))
}

export interface NamedServers {
  /** The user's named servers, running or not. */
  servers: ServerRecord[]
  /** hub.namedServerLimitPerUser (0: none), shown beside the form. */
  limit: number
}

/** A server someone else shares with the viewer: where it is and whether it runs. */
export interface SharedServer {
  owner: string
  server: string
  href: string
  ready: boolean
}

/** A server's state as the page names it: a start and a stop under way are shown as such. */
const STATE_LABEL: Record<ServerRecord['state'], string> = {
  running: 'running',
  pending: 'starting',
  stopping: 'stopping',
  stopped: 'stopped',
}
const stateClass = (state: ServerRecord['state']) =>
  state === 'running' ? 'running' : state === 'stopped' ? 'stopped' : 'pending'

/** "just now", "5 minutes ago", "3 days ago": how long ago an ISO time was, at `now`. */
export function ago(iso: string, now = Date.now()): string {
  const sec = Math.max(0, Math.round((now - Date.parse(iso)) / 1000))
  if (!Number.isFinite(sec)) return iso // not a time: shown as it is
  const [n, unit] =
    sec < 60
      ? [0, '']
      : sec < 3600
        ? [Math.floor(sec / 60), 'minute']
        : sec < 86_400
          ? [Math.floor(sec / 3600), 'hour']
          : [Math.floor(sec / 86_400), 'day']
  return n ? `${n} ${unit}${n === 1 ? '' : 's'} ago` : 'just now'
}

/** A last-activity cell: the time in words, the exact time in its datetime and title. */
const LastActivity = (p: { at?: string | null }) =>
  p.at ? (
    <time datetime={p.at} title={p.at}>
      {ago(p.at)}
    </time>
  ) : (
    <span class="muted">never</span>
  )

export function HomePage(p: {
  xsrf: string
  user: { name: string; admin: boolean }
  server?: ServerRecord
  baseUrl: string
  /** The authenticator offers a second factor: link /hub/two-factor. */
  twoFactor?: boolean
  /** The hub keeps passwords (the authenticator's capability): link the change-password page. */
  passwords: boolean
  /** Set when hub.allowNamedServers is. */
  named?: NamedServers
  services?: ServiceLink[]
  /** Last activity of each server (by server name, '' the default server), ISO. */
  activity?: Record<string, string | null>
  /** The viewer may share their default server (holds `shares` on it): link its sharing page. */
  mayShare?: boolean
  /** The named servers the viewer may share (by name); without it, all of them when mayShare is set. */
  shareable?: ReadonlySet<string>
  /** Servers others share with the viewer. */
  sharedWithMe?: SharedServer[]
}) {
  const state = p.server?.state ?? 'stopped'
  const owner = encodeURIComponent(p.user.name)
  return (
    <Layout title="Home" user={p.user}>
      <div id="servers" aria-live="polite">
        <div class="card" id="default-server">
          <h1>Your server</h1>
          <p>
            Status:{' '}
            <span class={`status ${stateClass(state)}`} id="server-status">
              {STATE_LABEL[state]}
            </span>
            {state !== 'stopped' || p.activity?.[''] ? (
              <span class="muted">
                {' '}
                · last activity <LastActivity at={p.activity?.['']} />
              </span>
            ) : null}
          </p>
          {p.server?.failed && p.server.message ? (
            <div class="error">
              The last start failed: <pre>{p.server.message}</pre>
            </div>
          ) : null}
          <div class="row">
            {state === 'running' ? (
              <>
                <a class="btn" id="open" href={p.baseUrl}>
                  Open my server
                </a>
                <form method="post" action="/hub/stop">
                  <XsrfField value={p.xsrf} />
                  <button class="secondary" id="stop" type="submit">
                    Stop my server
                  </button>
                </form>
              </>
            ) : state === 'stopped' ? (
              <form method="post" action="/hub/spawn">
                <XsrfField value={p.xsrf} />
                <button id="start" type="submit">
                  Start my server
                </button>
              </form>
            ) : state === 'pending' ? (
              <a class="btn secondary" id="progress" href={spawnPendingUrl(p.user.name, '')}>
                Show progress
              </a>
            ) : (
              <p class="muted" id="stop-pending">
                Your server is stopping; this page updates when it has stopped.
              </p>
            )}
            {p.mayShare ? (
              <a class="btn secondary" id="share" href={`/hub/share/${owner}/`}>
                Share
              </a>
            ) : null}
          </div>
        </div>
        {p.named ? (
          <NamedServersCard
            xsrf={p.xsrf}
            owner={p.user.name}
            named={p.named}
            activity={p.activity ?? {}}
            mayShare={(name) => (p.shareable ? p.shareable.has(name) : !!p.mayShare)}
          />
        ) : null}
      </div>
      {p.sharedWithMe?.length ? (
        <div class="card" id="shared-with-me">
          <h1>Shared with you</h1>
          <ul>
            {p.sharedWithMe.map((s) => (
              <li>
                <a href={s.href}>
                  {s.owner}'s {s.server ? `server ${s.server}` : 'server'}
                </a>{' '}
                <span class="muted">({s.ready ? 'running' : 'not running'})</span>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {p.services?.length ? (
        <div class="card" id="services">
          <h1>Services</h1>
          <ul>
            {p.services.map((s) => (
              <li>
                <a href={s.href}>{s.name}</a>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      <div class="card">
        <h1>Account</h1>
        <p class="row">
          <a href="/hub/token">API tokens and applications</a>
          {p.passwords ? <a href="/hub/change-password">Change password</a> : null}
          {p.twoFactor ? <a href="/hub/two-factor">Two-factor authentication</a> : null}
          <a href="/hub/logout">Log out</a>
        </p>
      </div>
      <script dangerouslySetInnerHTML={{ __html: POLL_JS }} />
    </Layout>
  )
}

// While a server is starting or stopping, the servers part of the page is fetched again every two
// seconds (for at most ten minutes) and swapped in, so the state changes without a reload. Without
// JavaScript the page shows the same on a reload.
const POLL_JS = `
(() => {
  let left = 300;
  const busy = () => document.querySelector('#servers .status.pending');
  const poll = async () => {
    if (!busy() || --left < 0) return;
    try {
      const r = await fetch('/hub/home', { credentials: 'same-origin', headers: { accept: 'text/html' } });
      if (r.ok && new URL(r.url).pathname === '/hub/home') {
        const fresh = new DOMParser().parseFromString(await r.text(), 'text/html').getElementById('servers');
        const here = document.getElementById('servers');
        if (fresh && here && !here.contains(document.activeElement)) here.innerHTML = fresh.innerHTML;
      }
    } catch {}
    setTimeout(poll, 2000);
  };
  setTimeout(poll, 2000);
})();
`

function NamedServersCard(p: {
  xsrf: string
  owner: string
  named: NamedServers
  activity: Record<string, string | null>
  mayShare: (server: string) => boolean
}) {
  const { servers, limit } = p.named
  const path = (s: string) => `${encodeURIComponent(p.owner)}/${encodeURIComponent(s)}`
  return (
    <div class="card" id="named-servers">
      <h1>Named servers</h1>
      {servers.length ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Server</th>
              <th scope="col">Status</th>
              <th scope="col">Last activity</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {servers.map((s) => {
              const label = s.displayName || s.name
              return (
                <tr data-server={s.name}>
                  <td>{label}</td>
                  <td>
                    <span class={`status ${stateClass(s.state)}`}>{STATE_LABEL[s.state]}</span>
                  </td>
                  <td>
                    <LastActivity at={p.activity[s.name]} />
                  </td>
                  <td>
                    <div class="row">
                      {s.state === 'running' ? (
                        <>
                          <a class="btn" href={serverBaseUrl(p.owner, s.name)} aria-label={`Open ${label}`}>
                            Open
                          </a>
                          <form method="post" action={`/hub/stop/${path(s.name)}`}>
                            <XsrfField value={p.xsrf} />
                            <button class="secondary" type="submit" aria-label={`Stop ${label}`}>
                              Stop
                            </button>
                          </form>
                        </>
                      ) : s.state === 'stopped' ? (
                        <form method="post" action={`/hub/spawn/${path(s.name)}`}>
                          <XsrfField value={p.xsrf} />
                          <button type="submit" aria-label={`Start ${label}`}>
                            Start
                          </button>
                        </form>
                      ) : s.state === 'pending' ? (
                        <a class="btn secondary" href={spawnPendingUrl(p.owner, s.name)}>
                          Show progress
                        </a>
                      ) : null}
                      {s.state === 'running' || s.state === 'stopped' ? (
                        <form method="post" action={`/hub/delete/${path(s.name)}`}>
                          <XsrfField value={p.xsrf} />
                          <button class="danger" type="submit" aria-label={`Delete ${label}`}>
                            Delete
                          </button>
                        </form>
                      ) : null}
                      {p.mayShare(s.name) ? (
                        <a class="btn secondary" href={`/hub/share/${path(s.name)}`} aria-label={`Share ${label}`}>
                          Share
                        </a>
                      ) : null}
                    </div>
                  </td>
                </tr>
              )
            })}
          </tbody>
        </table>
      ) : (
        <p class="muted">You have no named servers.</p>
      )}
      {/* posted to the home page, which sends it on to /hub/spawn/USER/NAME (home-pages.tsx) */}
      <form id="new-server" method="post" action="/hub/home">
        <XsrfField value={p.xsrf} />
        <label for="server_name">New server name</label>
        <input
          type="text"
          id="server_name"
          name="server_name"
          required
          maxlength={NEW_SERVER_NAME_MAX}
          pattern="[a-z](-?[a-z0-9])*"
          title={`1 to ${NEW_SERVER_NAME_MAX} lower-case letters, digits and single hyphens, starting with a letter`}
          aria-describedby="server-name-rule"
        />
        <p class="muted" id="server-name-rule">
          1 to {NEW_SERVER_NAME_MAX} lower-case letters, digits and single hyphens, starting with a letter.
          {limit ? ` You may have ${limit} named ${limit === 1 ? 'server' : 'servers'} running at once.` : ''}
        </p>
        <button id="add-server" type="submit">
          Add new server
        </button>
      </form>
    </div>
  )
}

const PENDING_JS = `
const bar = document.getElementById('progress-bar'), msgs = document.getElementById('progress-log'), label = document.getElementById('progress-message');
const src = new EventSource(document.body.dataset.progressUrl);
src.onmessage = (m) => {
  const ev = JSON.parse(m.data);
  if (typeof ev.progress === 'number') bar.style.width = ev.progress + '%';
  if (ev.message) { label.textContent = ev.message; const li = document.createElement('li'); li.textContent = ev.message; msgs.appendChild(li); }
  if (ev.ready) { src.close(); window.location.replace(document.getElementById('pending').dataset.next || ev.url || document.body.dataset.serverUrl); }
  if (ev.failed) { src.close(); label.textContent = ev.message; document.getElementById('failed').hidden = false; }
};
src.onerror = () => { label.textContent = 'Lost contact with the hub; retrying…'; };
`

/** next: where to go once the server is ready (a spawn link's next, already checked to be a local path); '' for the server. */
export function SpawnPendingPage(p: {
  user: { name: string; admin: boolean }
  owner: string
  server: string
  progressUrl: string
  serverUrl: string
  next: string
}) {
  return (
    <Layout title="Starting your server" user={p.user}>
      <div class="card" id="pending" data-progress-url={p.progressUrl} data-next={p.next}>
        <h1>
          Starting {p.server ? `server ${p.server}` : p.owner === p.user.name ? 'your server' : `${p.owner}'s server`}
        </h1>
        <p id="progress-message">The server is starting up…</p>
        <div class="bar" role="progressbar" aria-label="Spawn progress">
          <div id="progress-bar" />
        </div>
        <ul class="log" id="progress-log" />
        <div id="failed" hidden>
          <p>
            <a class="btn" href="/hub/home">
              Back to home
            </a>
          </p>
        </div>
      </div>
      <script
        dangerouslySetInnerHTML={{
          __html: `document.body.dataset.progressUrl=${JSON.stringify(p.progressUrl)};document.body.dataset.serverUrl=${JSON.stringify(p.serverUrl)};${PENDING_JS}`,
        }}
      />
    </Layout>
  )
}

export function NotRunningPage(p: {
  xsrf: string
  user: { name: string; admin: boolean }
  owner: string
  server: string
  rec?: ServerRecord
  path: string
}) {
  const mine = p.owner === p.user.name
  return (
    <Layout title="Server not running" user={p.user}>
      <div class="card">
        <h1>{mine ? 'Your server is not running' : `${p.owner}'s server is not running`}</h1>
        {p.rec?.failed && p.rec.message ? (
          <>
            <p>It stopped unexpectedly. The last lines of its log:</p>
            <pre id="server-log">{p.rec.message}</pre>
          </>
        ) : (
          <p>
            You asked for <code>{p.path}</code>, which is served by {mine ? 'your' : 'this'} server.
          </p>
        )}
        <form
          method="post"
          action={`/hub/spawn/${encodeURIComponent(p.owner)}${p.server ? `/${encodeURIComponent(p.server)}` : ''}?next=${encodeURIComponent(p.path)}`}
        >
          <XsrfField value={p.xsrf} />
          <button id="start" type="submit">
            Start {mine ? 'my' : 'the'} server
          </button>
        </form>
      </div>
    </Layout>
  )
}
