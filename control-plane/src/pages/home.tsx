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
}) {
  const state = p.server?.state ?? 'stopped'
  return (
    <Layout title="Home" user={p.user}>
      <div class="card">
        <h1>Your server</h1>
        <p>
          Status:{' '}
          <span
            class={`status ${state === 'running' ? 'running' : state === 'stopped' ? 'stopped' : 'pending'}`}
            id="server-status"
          >
            {state}
          </span>
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
          ) : (
            <a class="btn secondary" href={spawnPendingUrl(p.user.name, '')}>
              Show progress
            </a>
          )}
        </div>
      </div>
      {p.named ? <NamedServersCard xsrf={p.xsrf} owner={p.user.name} named={p.named} /> : null}
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
          {p.passwords ? <a href="/hub/change-password">Change password</a> : null}
          {p.twoFactor ? <a href="/hub/two-factor">Two-factor authentication</a> : null}
          <a href="/hub/logout">Log out</a>
        </p>
      </div>
    </Layout>
  )
}

// The new-server form names the server in its action (/hub/spawn/USER/NAME), as JupyterHub's home
// page does with its "Add New Server" field; the name is checked by the hub, not here.
const NEW_SERVER_JS = `
document.getElementById('new-server').addEventListener('submit', (e) => {
  const f = e.target, name = f.elements.server_name.value.trim();
  f.action = '/hub/spawn/' + encodeURIComponent(f.dataset.owner) + '/' + encodeURIComponent(name);
});
`

function NamedServersCard(p: { xsrf: string; owner: string; named: NamedServers }) {
  const { servers, limit } = p.named
  const path = (s: string) => `${encodeURIComponent(p.owner)}/${encodeURIComponent(s)}`
  return (
    <div class="card" id="named-servers">
      <h1>Named servers</h1>
      {servers.length ? (
        <table>
          <tbody>
            {servers.map((s) => (
              <tr data-server={s.name}>
                <td>{s.displayName || s.name}</td>
                <td>
                  <span
                    class={`status ${s.state === 'running' ? 'running' : s.state === 'stopped' ? 'stopped' : 'pending'}`}
                  >
                    {s.state}
                  </span>
                </td>
                <td class="row">
                  {s.state === 'running' ? (
                    <>
                      <a href={serverBaseUrl(p.owner, s.name)}>Open</a>
                      <form method="post" action={`/hub/stop/${path(s.name)}`}>
                        <XsrfField value={p.xsrf} />
                        <button class="secondary" type="submit">
                          Stop
                        </button>
                      </form>
                    </>
                  ) : s.state === 'stopped' ? (
                    <a href={`/hub/spawn/${path(s.name)}`}>Start</a>
                  ) : (
                    <a href={spawnPendingUrl(p.owner, s.name)}>Show progress</a>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p class="muted">You have no named servers.</p>
      )}
      {/* the action is set on submit (NEW_SERVER_JS); /hub/home would only answer that there is nothing to post to */}
      <form id="new-server" method="post" action="/hub/home" data-owner={p.owner}>
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
        />
        {limit ? (
          <p class="muted">
            You may have {limit} named {limit === 1 ? 'server' : 'servers'} running at once.
          </p>
        ) : null}
        <button id="add-server" type="submit">
          Add new server
        </button>
      </form>
      <script dangerouslySetInnerHTML={{ __html: NEW_SERVER_JS }} />
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
