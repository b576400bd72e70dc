// JupyterHub's Spawner.default_url: where a user lands inside their server (`/lab`, `/tree`,
// `/tree/{username}`), a path under the server's own URL. The spawner gives it to the server
// (JUPYTERHUB_DEFAULT_URL, or a flag), and the hub sends people there after a spawn.

/** The placeholders a default URL may hold, as in JupyterHub's Spawner.template_namespace. */
export const DEFAULT_URL_PLACEHOLDERS = ['username'] as const

/** Printable ASCII but space and backslash, not starting with `//` (which a browser reads as another host). */
export const DEFAULT_URL_PATTERN = /^(?!\/\/)[\x21-\x5b\x5d-\x7e]+$/

/** At most this many characters. */
export const DEFAULT_URL_MAX = 512

/** Why `template` is no usable default URL, or undefined when it is one. */
export function defaultUrlProblem(template: string): string | undefined {
  if (template.length > DEFAULT_URL_MAX) return `at most ${DEFAULT_URL_MAX} characters`
  if (!DEFAULT_URL_PATTERN.test(template))
    return 'expected a path such as /lab or /tree/{username}: no spaces, backslashes or //host'
  for (const [, name] of template.matchAll(/\{([^}]*)\}/g)) {
    if (!(DEFAULT_URL_PLACEHOLDERS as readonly string[]).includes(name))
      return `unknown placeholder {${name}}; known: ${DEFAULT_URL_PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}`
  }
  return undefined
}

/** The default URL for `user`: {username} filled in (URL-escaped), always with a leading slash. */
export function formatDefaultUrl(template: string, user: string): string {
  const path = template.replace(/\{username\}/g, encodeURIComponent(user))
  return path.startsWith('/') ? path : `/${path}`
}

/** Where a user lands in the server at `baseUrl` (`/user/NAME/`): baseUrl + the default URL, or baseUrl without one. */
export function landingUrl(baseUrl: string, user: string, template: string | undefined): string {
  return template ? `${baseUrl}${formatDefaultUrl(template, user).slice(1)}` : baseUrl
}
