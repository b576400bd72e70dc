import type { ServerRecord } from '../state/servers'
import { spawnPendingUrl } from '../spawn/orchestrator'
import { Layout, XsrfField } from './layout'

export function HomePage(p: { xsrf: string; user: { name: string; admin: boolean }; server?: ServerRecord; baseUrl: string; native: boolean }) {
  const state = p.server?.state ?? 'stopped'
  return (
    <Layout title="Home" user={p.user}>
      <div class="card">
        <h1>Your server</h1>
        <p>
          Status: <span class={`status ${state === 'running' ? 'running' : state === 'stopped' ? 'stopped' : 'pending'}`} id="server-status">{state}</span>
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
      <div class="card">
        <h1>Account</h1>
        <p class="row">
          {p.native ? <a href="/hub/change-password">Change password</a> : null}
          <a href="/hub/logout">Log out</a>
        </p>
      </div>
    </Layout>
  )
}

const PENDING_JS = `
const bar = document.getElementById('progress-bar'), msgs = document.getElementById('progress-log'), label = document.getElementById('progress-message');
const src = new EventSource(document.body.dataset.progressUrl);
src.onmessage = (m) => {
  const ev = JSON.parse(m.data);
  if (typeof ev.progress === 'number') bar.style.width = ev.progress + '%';
  if (ev.message) { label.textContent = ev.message; const li = document.createElement('li'); li.textContent = ev.message; msgs.appendChild(li); }
  if (ev.ready) { src.close(); window.location.replace(ev.url || document.body.dataset.serverUrl); }
  if (ev.failed) { src.close(); label.textContent = ev.message; document.getElementById('failed').hidden = false; }
};
src.onerror = () => { label.textContent = 'Lost contact with the hub; retrying…'; };
`

export function SpawnPendingPage(p: { user: { name: string; admin: boolean }; owner: string; server: string; progressUrl: string; serverUrl: string }) {
  return (
    <Layout title="Starting your server" user={p.user}>
      <div class="card" id="pending" data-progress-url={p.progressUrl}>
        <h1>Starting {p.server ? `server ${p.server}` : p.owner === p.user.name ? 'your server' : `${p.owner}'s server`}</h1>
        <p id="progress-message">The server is starting up…</p>
        <div class="bar" role="progressbar" aria-label="Spawn progress">
          <div id="progress-bar" />
        </div>
        <ul class="log" id="progress-log" />
        <div id="failed" hidden>
          <p>
            <a class="btn" href="/hub/home">Back to home</a>
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

export function NotRunningPage(p: { xsrf: string; user: { name: string; admin: boolean }; owner: string; server: string; rec?: ServerRecord; path: string }) {
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
        <form method="post" action={`/hub/spawn/${encodeURIComponent(p.owner)}${p.server ? `/${encodeURIComponent(p.server)}` : ''}?next=${encodeURIComponent(p.path)}`}>
          <XsrfField value={p.xsrf} />
          <button id="start" type="submit">
            Start {mine ? 'my' : 'the'} server
          </button>
        </form>
      </div>
    </Layout>
  )
}
