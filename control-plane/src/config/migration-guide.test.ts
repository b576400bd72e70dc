// docs/migrating-from-jupyterhub.md names edgehub settings and JupyterHub traits; this keeps both
// honest: every edgehub key it names is in the schema, every edgehub command it names is one the CLI
// has, every example edgehub.yaml passes the config check, and every `c.Class.trait` it names exists
// in JupyterHub's source (Debian's jupyterhub package, when installed).
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import type { z } from 'zod'
import { configSchema } from './schema'

const GUIDE_PATH = new URL('../../../docs/migrating-from-jupyterhub.md', import.meta.url)
const CLI_PATH = new URL('../cli.ts', import.meta.url)
const JUPYTERHUB_DIR = '/usr/lib/python3/dist-packages/jupyterhub'

const guide = readFileSync(GUIDE_PATH, 'utf8')

type Node = z.ZodType & {
  _zod: { def: { type: string; innerType?: Node; shape?: Record<string, Node>; element?: Node } }
}

/** Every key of the schema: sections (`auth.native`), settings (`auth.native.allowSignup`) and fields of list items (`services[].apiToken`). */
function schemaKeys(): Set<string> {
  const keys = new Set<string>()
  const walk = (s: Node, path: string) => {
    let cur = s
    while (cur._zod.def.innerType) cur = cur._zod.def.innerType
    if (path) keys.add(path)
    if (cur._zod.def.shape) for (const [k, v] of Object.entries(cur._zod.def.shape)) walk(v, path ? `${path}.${k}` : k)
    else if (cur._zod.def.type === 'array' && cur._zod.def.element) walk(cur._zod.def.element, `${path}[]`)
  }
  walk(configSchema as unknown as Node, '')
  // an array's own entry ("services[]") is not a key anyone writes
  for (const k of [...keys]) if (k.endsWith('[]')) keys.delete(k)
  return keys
}

/** Outside code blocks: the cells of each table row (header and separator rows left out). */
function tableRows(md: string): string[][] {
  const rows: string[][] = []
  let inCode = false
  let header = true
  for (const line of md.split('\n')) {
    if (line.startsWith('```')) inCode = !inCode
    if (inCode || line.startsWith('```')) continue
    if (!line.startsWith('|')) {
      header = true
      continue
    }
    const cells = line
      .slice(1, line.endsWith('|') ? -1 : undefined)
      .split('|')
      .map((c) => c.trim())
    if (cells.every((c) => /^-+$/.test(c))) continue
    if (header) {
      header = false
      continue
    }
    rows.push(cells)
  }
  return rows
}

/** The guide without its fenced code blocks, whose fences would pair up with inline backticks. */
const withoutCode = (md: string): string => md.replace(/^```[\s\S]*?^```$/gm, '')
const backticked = (text: string): string[] => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1])
const isCommand = (t: string) => t.startsWith('edgehub ')
const isRestCall = (t: string) => /^(GET|POST|PUT|PATCH|DELETE) \//.test(t)
/** `key` or `key: value`, as the edgehub column writes settings. */
const keyOf = (t: string) => t.split(/:\s/)[0]

/** Text outside the tables' first column and outside code blocks, where edgehub keys appear in notes and prose. */
function textOutsideFirstColumn(md: string): string {
  const out: string[] = []
  let inCode = false
  for (const line of md.split('\n')) {
    if (line.startsWith('```')) inCode = !inCode
    if (inCode || line.startsWith('```')) continue
    out.push(line.startsWith('|') ? line.split('|').slice(2).join('|') : line)
  }
  return out.join('\n')
}

describe('docs/migrating-from-jupyterhub.md', () => {
  const keys = schemaKeys()
  const rows = tableRows(guide)
  const topSections = new Set([...keys].filter((k) => !k.includes('.') && !k.includes('[')))

  it('has tables with an edgehub column', () => {
    expect(rows.length).toBeGreaterThan(100)
    expect(keys.has('hub.activeServerLimit') && keys.has('services[].apiToken')).toBe(true)
  })

  it('names in its edgehub column only settings that exist in the schema', () => {
    const unknown: string[] = []
    let named = 0
    for (const cells of rows) {
      for (const t of backticked(cells[1] ?? '')) {
        if (isCommand(t) || isRestCall(t)) continue
        named++
        if (!keys.has(keyOf(t))) unknown.push(`${keyOf(t)} (row ${cells[0]})`)
      }
    }
    expect(named).toBeGreaterThan(80)
    expect(unknown).toEqual([])
  })

  it('names in its notes and prose only settings that exist in the schema', () => {
    // a backticked word that starts like an edgehub setting (hub.…, spawner.…, services[].…) must be one
    const unknown = backticked(textOutsideFirstColumn(guide))
      .filter((t) => !isCommand(t) && !isRestCall(t))
      .map(keyOf)
      .filter((k) => /^[A-Za-z-]+(\[\])?\.[A-Za-z-]/.test(k) && topSections.has(k.split(/[.[]/)[0]))
      .filter((k) => !keys.has(k))
    expect(unknown).toEqual([])
  })

  it('names only commands and flags the edgehub CLI has', () => {
    const usage = readFileSync(CLI_PATH, 'utf8').match(/const USAGE = `([\s\S]*?)`/)?.[1] ?? ''
    expect(usage).toContain('commands:')
    const commands = [...new Set(backticked(withoutCode(guide)).filter(isCommand))]
    expect(commands.length).toBeGreaterThan(3)
    const problems: string[] = []
    for (const cmd of commands) {
      const words = cmd.split(/\s+/).slice(1)
      const verb = words
        .filter((w) => /^[a-z]+$/.test(w))
        .slice(0, 2)
        .join(' ')
      // "user add NAME", "config check": the command's own words start a line of the usage
      if (!new RegExp(`^  ${verb}\\b`, 'm').test(usage)) problems.push(`${cmd}: no command "${verb}"`)
      for (const flag of words.filter((w) => w.startsWith('--'))) {
        if (!usage.includes(flag)) problems.push(`${cmd}: no flag ${flag}`)
      }
    }
    expect(problems).toEqual([])
  })

  it('gives example configurations that pass the config check', () => {
    const blocks = [...guide.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1])
    expect(blocks.length).toBeGreaterThan(0)
    for (const block of blocks) {
      const result = configSchema.safeParse(parseYaml(block))
      expect(result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([])
    }
  })
})

// ---- JupyterHub's traits ----

/**
 * Traits the guide names that came after Debian 12's JupyterHub (3.0), with the release that added
 * them (from JupyterHub's `versionadded` notes and history). The guide marks each as "(JupyterHub V)",
 * V without a trailing ".0".
 */
const NEWER_TRAITS: Record<string, string> = {
  'JupyterHub.public_url': '5.0',
  'JupyterHub.subdomain_hook': '5.0',
  'JupyterHub.token_expires_in_max_seconds': '5.1',
  'Authenticator.allow_all': '5.0',
  'Authenticator.allow_existing_users': '5.0',
  'Authenticator.manage_roles': '5.0',
}

/** JupyterHub's own classes the guide names traits of. */
const JUPYTERHUB_CLASSES = [
  'JupyterHub',
  'Spawner',
  'LocalProcessSpawner',
  'Authenticator',
  'LocalAuthenticator',
  'PAMAuthenticator',
  'DummyAuthenticator',
]

/** Classes of other packages the guide names (their traits cannot be checked against JupyterHub's source). */
const OTHER_PACKAGES: Record<string, string> = {
  NativeAuthenticator: 'jupyterhub-nativeauthenticator',
  SystemdSpawner: 'jupyterhub-systemdspawner',
  DockerSpawner: 'dockerspawner',
  KubeSpawner: 'jupyterhub-kubespawner',
  GenericOAuthenticator: 'oauthenticator',
  GitHubOAuthenticator: 'oauthenticator',
  LDAPAuthenticator: 'jupyterhub-ldapauthenticator',
  RemoteUserAuthenticator: 'jhub_remote_user_authenticator',
  FirstUseAuthenticator: 'jupyterhub-firstuseauthenticator',
}

interface PyClass {
  bases: string[]
  traits: Set<string>
}

/** Classes of JupyterHub's top-level modules, with their bases and the traits their bodies assign. */
function jupyterhubClasses(dir: string): Map<string, PyClass> {
  const classes = new Map<string, PyClass>()
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.py'))) {
    let current: PyClass | undefined
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      const cls = /^class (\w+)(?:\(([^)]*)\))?:/.exec(line)
      if (cls) {
        current = {
          bases: (cls[2] ?? '')
            .split(',')
            .map((b) => b.trim().split('.').pop()!)
            .filter(Boolean),
          traits: new Set(),
        }
        classes.set(cls[1], current)
        continue
      }
      if (/^\S/.test(line) && !line.startsWith('#')) current = undefined
      const trait = current && /^ {4}(\w+) = [A-Z]\w*\(/.exec(line)
      if (trait) current!.traits.add(trait[1])
    }
  }
  return classes
}

function hasTrait(classes: Map<string, PyClass>, cls: string, trait: string, seen = new Set<string>()): boolean {
  const c = classes.get(cls)
  if (!c || seen.has(cls)) return false
  seen.add(cls)
  return c.traits.has(trait) || c.bases.some((b) => hasTrait(classes, b, trait, seen))
}

const versionNumber = (v: string) =>
  v
    .split('.')
    .map(Number)
    .reduce((n, part, i) => n + part * 1000 ** (2 - i), 0)

const installed = existsSync(join(JUPYTERHUB_DIR, 'app.py'))
const installedVersion = installed
  ? (/version_info = \((\d+), (\d+), (\d+)/.exec(readFileSync(join(JUPYTERHUB_DIR, '_version.py'), 'utf8')) ?? [])
      .slice(1, 4)
      .join('.')
  : ''

describe("docs/migrating-from-jupyterhub.md and JupyterHub's traits", () => {
  const named = [...new Set([...guide.matchAll(/\bc\.([A-Z]\w*)\.([a-z_]\w*)\b/g)].map((m) => `${m[1]}.${m[2]}`))]

  it('names traits of JupyterHub and of the packages it lists', () => {
    expect(named.length).toBeGreaterThan(60)
    const cls = (t: string) => t.split('.')[0]
    expect(named.filter((t) => !JUPYTERHUB_CLASSES.includes(cls(t)) && !(cls(t) in OTHER_PACKAGES))).toEqual([])
  })

  it('marks each trait newer than JupyterHub 3.0 with the release that added it', () => {
    for (const [trait, version] of Object.entries(NEWER_TRAITS)) {
      expect(named, `${trait} is listed as newer but not named in the guide`).toContain(trait)
      expect(guide).toContain(`\`c.${trait}\` (JupyterHub ${version.replace(/\.0$/, '')})`)
    }
  })

  it.skipIf(!installed)(
    installed
      ? `names only traits that exist in Debian's jupyterhub ${installedVersion} (${JUPYTERHUB_DIR}), or ones added in a later release`
      : `skipped: Debian's jupyterhub package is not installed (no ${JUPYTERHUB_DIR}; apt-get install jupyterhub to check the traits)`,
    () => {
      const classes = jupyterhubClasses(JUPYTERHUB_DIR)
      expect(classes.has('Spawner') && hasTrait(classes, 'LocalProcessSpawner', 'cmd')).toBe(true)
      const missing: string[] = []
      for (const trait of named) {
        const [cls, name] = trait.split('.')
        if (cls in OTHER_PACKAGES) continue
        const addedIn = NEWER_TRAITS[trait]
        if (addedIn && versionNumber(installedVersion) < versionNumber(addedIn)) {
          // not in this release: it must really be missing, or the entry is stale for it
          expect(
            hasTrait(classes, cls, name),
            `${trait} exists in ${installedVersion}: drop it from NEWER_TRAITS`,
          ).toBe(false)
          continue
        }
        if (!hasTrait(classes, cls, name)) missing.push(trait)
      }
      expect(missing).toEqual([])
    },
  )
})
