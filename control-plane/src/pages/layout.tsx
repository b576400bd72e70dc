import type { Child } from 'hono/jsx'
import { raw } from 'hono/html'

const CSS = `
:root{--fg:#1f2328;--muted:#59636e;--bg:#f6f8fa;--card:#fff;--line:#d1d9e0;--accent:#b3501a;--accent-d:#8f3f12;--ok:#1a7f37;--bad:#cf222e}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{background:#24292f;color:#fff;padding:.6rem 1.2rem;display:flex;align-items:center;gap:1.2rem}
header a{color:#fff;text-decoration:none}header .brand{font-weight:700;letter-spacing:.02em}header nav{display:flex;gap:1rem;flex:1}
header .who{opacity:.85;font-size:.9em}main{max-width:760px;margin:2.5rem auto;padding:0 1rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:1.6rem 1.8rem;margin-bottom:1.2rem}
h1{font-size:1.45rem;margin:0 0 1rem}label{display:block;font-weight:600;margin:.8rem 0 .3rem}
input[type=text],input[type=password],select{width:100%;padding:.55rem .7rem;border:1px solid var(--line);border-radius:6px;font:inherit}
button,.btn{display:inline-block;margin-top:1rem;padding:.5rem 1.1rem;border-radius:6px;border:1px solid var(--accent-d);background:var(--accent);color:#fff;font:inherit;font-weight:600;cursor:pointer;text-decoration:none}
button.secondary,.btn.secondary{background:#fff;color:var(--fg);border-color:var(--line)}button.danger{background:var(--bad);border-color:#a40e26}
.error{background:#ffebe9;border:1px solid #ff8182;color:#82071e;padding:.6rem .8rem;border-radius:6px;margin-bottom:1rem}
.notice{background:#ddf4ff;border:1px solid #54aeff;padding:.6rem .8rem;border-radius:6px;margin-bottom:1rem}
.muted{color:var(--muted)}.row{display:flex;gap:.6rem;align-items:center;flex-wrap:wrap}
.bar{height:12px;background:#eaeef2;border-radius:6px;overflow:hidden;margin:1rem 0}.bar>div{height:100%;width:0;background:var(--accent);transition:width .3s}
pre{background:#0d1117;color:#e6edf3;padding:.8rem;border-radius:6px;overflow:auto;font-size:.85em;max-height:22rem}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.45rem .4rem;border-bottom:1px solid var(--line)}
.status{font-weight:600}.status.running{color:var(--ok)}.status.stopped{color:var(--muted)}.status.pending{color:var(--accent-d)}
ul.log{list-style:none;padding:0;margin:0;font-size:.9em;color:var(--muted)}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,.btn:focus-visible{outline:3px solid #0969da;outline-offset:2px}
h2{font-size:1.1rem;margin:1.2rem 0 .6rem}fieldset{border:0;padding:0;margin:.8rem 0 0}legend{font-weight:600;padding:0}
label.inline{display:inline-flex;gap:.35rem;align-items:center;font-weight:400;margin:.3rem 1rem .3rem 0}
td button,td .btn{margin-top:0}
`

export function Layout(props: { title: string; user?: { name: string; admin: boolean } | null; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title} · edgehub</title>
        <style>{raw(CSS)}</style>
      </head>
      <body>
        <header>
          <a class="brand" href="/hub/home">
            edgehub
          </a>
          <nav>
            {props.user ? <a href="/hub/home">Home</a> : null}
            {props.user ? <a href="/hub/token">Token</a> : null}
            {props.user?.admin ? <a href="/hub/admin">Admin</a> : null}
          </nav>
          {props.user ? (
            <span class="who">
              {props.user.name} · <a href="/hub/logout">Log out</a>
            </span>
          ) : null}
        </header>
        <main>{props.children}</main>
      </body>
    </html>
  )
}

/**
 * Sent with every hub response (http/identity.ts): only the hub's own origin may frame its pages, so
 * another site cannot lay a page of the hub under its own and have a logged-in user click on it. The
 * same as JupyterHub's default Content-Security-Policy; X-Frame-Options for browsers without CSP 2.
 */
export const FRAME_HEADERS = {
  'Content-Security-Policy': "frame-ancestors 'self'",
  'X-Frame-Options': 'SAMEORIGIN',
} as const

export const XsrfField = (props: { value: string }) => <input type="hidden" name="_xsrf" value={props.value} />

/** An error message as a sentence on a page: "the name is empty" -> "The name is empty." */
export const sentence = (msg: string) =>
  msg ? msg[0].toUpperCase() + msg.slice(1) + (/[.!?]$/.test(msg) ? '' : '.') : msg
