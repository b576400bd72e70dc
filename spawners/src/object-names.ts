// Names of the things a container spawner makes for a user (containers, pods, volumes, claims):
// user and server names escaped into what Docker and Kubernetes accept, never colliding. The scheme is
// JupyterHub's (the escapism package, as KubeSpawner and DockerSpawner use it): a-z and 0-9 stay, every
// other byte of the UTF-8 name becomes `-` and two lower-case hex digits, `-` itself included, so two
// different names never escape alike ("Alice" is -41lice, "alice" is alice, "a.b" is a-2eb). A name
// longer than the limit keeps its start and ends in a hash of the whole, still distinct.
import { createHash } from 'node:crypto'

const SAFE = /^[a-z0-9]$/

/** `name` escaped: a-z and 0-9 kept, any other byte as -XX (lower-case hex). */
export function escapeName(name: string): string {
  let out = ''
  for (const ch of name) {
    if (SAFE.test(ch)) out += ch
    else for (const byte of Buffer.from(ch, 'utf8')) out += `-${byte.toString(16).padStart(2, '0')}`
  }
  return out
}

/** Kubernetes' limit for names that are DNS labels (pods, services, claims). */
export const DNS_LABEL_MAX = 63

/**
 * An object name from a template: {username} and {servername} escaped ({servername} empty for the
 * default server, with a `-` before it dropped), {user} and {server} as JupyterHub's unescaped names
 * are not offered (they would not be valid names). Longer than `max`: cut, and ended with `-` and 8
 * hex digits of the full name's hash. The result begins and ends with a-z or 0-9, as a DNS label must.
 */
export function objectName(
  template: string,
  vars: { username: string; servername: string },
  max = DNS_LABEL_MAX,
): string {
  let name = template.replaceAll('{username}', escapeName(vars.username))
  name = vars.servername
    ? name.replaceAll('{servername}', escapeName(vars.servername))
    : name.replaceAll(/-?\{servername\}/g, '')
  if (/[{}]/.test(name)) throw new Error(`unknown placeholder in name template ${JSON.stringify(template)}`)
  if (name.length > max || !/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) {
    const hash = createHash('sha256').update(name).digest('hex').slice(0, 8)
    name = `${name
      .slice(0, max - 9)
      .replace(/^[^a-z0-9]+/, 'x')
      .replace(/[^a-z0-9]+$/, '')}-${hash}`
  }
  return name
}

/** The checks a name template gets at startup: placeholders known, {username} present. */
export function nameTemplateProblem(template: string): string | undefined {
  const unknown = template.replaceAll('{username}', '').replaceAll('{servername}', '')
  if (/[{}]/.test(unknown)) return 'expected only the placeholders {username} and {servername}'
  if (!template.includes('{username}')) return 'expected {username} in the template (names must differ per user)'
  if (!/^[a-z0-9{}-]+$/.test(template)) return 'expected a-z, 0-9, - and placeholders only'
  return undefined
}
