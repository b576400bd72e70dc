import type { Child } from 'hono/jsx'
import { raw } from 'hono/html'
import { branding, type Branding } from '../branding/branding'
import { textOn } from '../branding/colour'

// The colours of each theme as custom properties; the rest of the sheet uses only these, so the
// dark theme (the system's preference, or the toggle's choice kept in localStorage) is one block.
const LIGHT = `--fg:#1f2328;--muted:#59636e;--bg:#f6f8fa;--card:#fff;--line:#d1d9e0;--head:#24292f;--head-fg:#fff;
--ok:#1a7f37;--bad:#cf222e;--bad-d:#a40e26;--err-bg:#ffebe9;--err-line:#ff8182;--err-fg:#82071e;--note-bg:#ddf4ff;
--note-line:#54aeff;--track:#eaeef2;--focus:#0969da;--field:#fff;--pending:#8f3f12;color-scheme:light`
const DARK = `--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;--card:#161b22;--line:#3d444d;--head:#010409;--head-fg:#f0f6fc;
--ok:#3fb950;--bad:#b62324;--bad-d:#da3633;--err-bg:#3c1618;--err-line:#da3633;--err-fg:#ffdcd7;--note-bg:#0c2d6b;
--note-line:#1f6feb;--track:#30363d;--focus:#58a6ff;--field:#0d1117;--pending:#f0883e;color-scheme:dark`

const themeVars = (b: Branding) => {
  const light = `${LIGHT};--accent:${b.primaryColour};--accent-fg:${textOn(b.primaryColour)};--link:${b.linkColour}`
  const dark = `${DARK};--accent:${b.primaryColourDark};--accent-fg:${textOn(b.primaryColourDark)};--link:${b.linkColourDark}`
  return `:root{${light}}:root[data-theme=dark]{${dark}}
@media (prefers-color-scheme:dark){:root:not([data-theme=light]){${dark}}}`
}

const CSS = `
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
a{color:var(--link)}main{overflow-wrap:anywhere}
header{background:var(--head);color:var(--head-fg);padding:.6rem 1.2rem;display:flex;align-items:center;gap:.6rem 1.2rem;flex-wrap:wrap}
header a{color:var(--head-fg);text-decoration:none}header a:hover{text-decoration:underline}
header .brand{font-weight:700;letter-spacing:.02em;display:inline-flex;align-items:center;gap:.5rem}header .brand img{height:28px;width:auto}
header nav{display:flex;gap:1rem;flex:1;flex-wrap:wrap}
header .who{font-size:.9em}main{max-width:760px;margin:2.5rem auto;padding:0 1rem}
#theme-toggle{margin:0;padding:.2rem .6rem;background:transparent;color:var(--head-fg);border:1px solid var(--muted);font-weight:400;font-size:.85em}
.banner{background:var(--note-bg);border-bottom:1px solid var(--note-line);padding:.5rem 1.2rem;text-align:center}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:1.6rem 1.8rem;margin-bottom:1.2rem}
h1{font-size:1.45rem;margin:0 0 1rem}label{display:block;font-weight:600;margin:.8rem 0 .3rem}
input[type=text],input[type=password],input[type=search],input[type=number],input:not([type]),select,textarea{max-width:100%;background:var(--field);color:var(--fg)}
input[type=text],input[type=password],select{width:100%;padding:.55rem .7rem;border:1px solid var(--line);border-radius:6px;font:inherit}
button,.btn{display:inline-block;margin-top:1rem;padding:.5rem 1.1rem;border-radius:6px;border:1px solid var(--accent);background:var(--accent);color:var(--accent-fg);font:inherit;font-weight:600;cursor:pointer;text-decoration:none}
button.secondary,.btn.secondary{background:var(--card);color:var(--fg);border-color:var(--line)}button.danger{background:var(--bad);border-color:var(--bad-d);color:#fff}
.error{background:var(--err-bg);border:1px solid var(--err-line);color:var(--err-fg);padding:.6rem .8rem;border-radius:6px;margin-bottom:1rem}
.notice{background:var(--note-bg);border:1px solid var(--note-line);padding:.6rem .8rem;border-radius:6px;margin-bottom:1rem}
.muted{color:var(--muted)}.row{display:flex;gap:.6rem;align-items:center;flex-wrap:wrap}
.bar{height:12px;background:var(--track);border-radius:6px;overflow:hidden;margin:1rem 0}.bar>div{height:100%;width:0;background:var(--accent);transition:width .3s}
pre{background:#0d1117;color:#e6edf3;padding:.8rem;border-radius:6px;overflow:auto;font-size:.85em;max-height:22rem}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.45rem .4rem;border-bottom:1px solid var(--line)}
.status{font-weight:600}.status.running{color:var(--ok)}.status.stopped{color:var(--muted)}.status.pending{color:var(--pending)}
ul.log{list-style:none;padding:0;margin:0;font-size:.9em;color:var(--muted)}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible,.btn:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
h2{font-size:1.1rem;margin:1.2rem 0 .6rem}fieldset{border:0;padding:0;margin:.8rem 0 0}legend{font-weight:600;padding:0}
label.inline{display:inline-flex;gap:.35rem;align-items:center;font-weight:400;margin:.3rem 1rem .3rem 0}
td button,td .btn{margin-top:0}
:root .card a,:root .admin-nav a{color:var(--link)}:root .admin-nav a[aria-current=page]{color:var(--fg)}
:root .card button:not(.secondary):not(.danger),:root .card .btn:not(.secondary){background:var(--accent);border-color:var(--accent);color:var(--accent-fg)}
:root .status.stopping,:root .status.starting{color:var(--pending)}
@media (max-width:600px){main{margin:1rem auto;padding:0 .5rem}.card{padding:1rem}table{display:block;overflow-x:auto}
.filters input[type=search]{min-width:0;width:100%}header{padding:.5rem .8rem}}
`

// Before the first paint: the theme the toggle chose last time (none: the system's), and the toggle.
const THEME_SCRIPT = `(function(){var d=document.documentElement;try{var t=localStorage.getItem('edgehub-theme');if(t==='dark'||t==='light')d.setAttribute('data-theme',t)}catch(e){}
function dark(){var t=d.getAttribute('data-theme');return t?t==='dark':matchMedia('(prefers-color-scheme: dark)').matches}
document.addEventListener('DOMContentLoaded',function(){var b=document.getElementById('theme-toggle');if(!b)return;
function show(){b.setAttribute('aria-pressed',String(dark()))}show();
b.addEventListener('click',function(){var t=dark()?'light':'dark';d.setAttribute('data-theme',t);try{localStorage.setItem('edgehub-theme',t)}catch(e){}show()})})})()`

/** A block from the template folder (branding/templates.ts), or the page's own content. */
export function Block(props: { name: string; children?: Child }) {
  const html = branding().blocks[props.name]
  return html === undefined ? props.children : raw(html)
}

export function Layout(props: {
  title: string
  user?: { name: string; admin: boolean } | null
  children: Child
  /** Extra banner for this page (the login page's announcement). */
  banner?: string
}) {
  const b = branding()
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>
          {props.title} · {b.siteName}
        </title>
        <script>{raw(THEME_SCRIPT)}</script>
        <style>{raw(themeVars(b) + CSS)}</style>
        <Block name="head" />
      </head>
      <body>
        <Block name="header">
          <header>
            <a class="brand" href="/hub/home">
              {b.logo ? <img src={b.logo} alt="" /> : null}
              {b.siteName}
            </a>
            <nav aria-label="Main">
              {props.user ? <a href="/hub/home">Home</a> : null}
              {props.user ? <a href="/hub/token">Token</a> : null}
              {props.user?.admin ? <a href="/hub/admin">Admin</a> : null}
            </nav>
            {props.user ? (
              <span class="who">
                {props.user.name} · <a href="/hub/logout">Log out</a>
              </span>
            ) : null}
            <button type="button" id="theme-toggle" aria-pressed="false">
              Dark theme
            </button>
          </header>
        </Block>
        {b.announcement ? (
          <div class="banner" id="announcement" role="note">
            {b.announcement}
          </div>
        ) : null}
        {props.banner ? (
          <div class="banner" id="announcement-login" role="note">
            {props.banner}
          </div>
        ) : null}
        <main>{props.children}</main>
        <Block name="footer" />
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
