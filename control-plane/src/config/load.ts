// Reads the config file and EDGEHUB_* environment overrides, checks them against the schema,
// and reports every problem at once, each naming its key.
import { authenticatorSettingsProblems } from '../../../auth/src'
import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import type { z } from 'zod'
import { configSchema, type Config } from './schema'
import { ConfigError } from '../../../runtime/src/errors'

export const ENV_PREFIX = 'EDGEHUB_'
const DEFAULT_FILE = 'edgehub.yaml'
/** Read by bin/edgehub.js, not settings: EDGEHUB_SOURCES=1 runs a checkout's sources even when built. */
const NON_SETTING_ENV = new Set(['EDGEHUB_CONFIG', 'EDGEHUB_SOURCES'])

type AnySchema = z.ZodType & {
  _zod: { def: { type: string; innerType?: AnySchema; shape?: Record<string, AnySchema> } }
}

function unwrap(s: AnySchema): AnySchema {
  let cur = s
  while (cur._zod.def.innerType) cur = cur._zod.def.innerType
  return cur
}

/** dataDir -> DATA_DIR, startTimeoutSec -> START_TIMEOUT_SEC, local-process -> LOCAL_PROCESS */
const envWord = (key: string) =>
  key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/-/g, '_')
    .toUpperCase()

interface Leaf {
  path: string[]
  type: string
}

/** Every setting that an environment variable can override, by variable name. */
export function envSettings(schema: AnySchema = configSchema as unknown as AnySchema): Map<string, Leaf> {
  const out = new Map<string, Leaf>()
  const walk = (s: AnySchema, path: string[]) => {
    const inner = unwrap(s)
    if (inner._zod.def.type === 'object' && inner._zod.def.shape) {
      for (const [k, v] of Object.entries(inner._zod.def.shape)) walk(v, [...path, k])
      return
    }
    out.set(ENV_PREFIX + path.map(envWord).join('_'), { path, type: inner._zod.def.type })
  }
  walk(schema, [])
  return out
}

function envValue(leaf: Leaf, raw: string): unknown {
  switch (leaf.type) {
    case 'number':
      return raw.trim() !== '' && !Number.isNaN(Number(raw)) ? Number(raw) : raw
    case 'boolean':
      return /^(1|true|yes)$/i.test(raw) ? true : /^(0|false|no)$/i.test(raw) ? false : raw
    case 'array':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    case 'tuple': // a range: "20000-32767" or "20000,32767"
      return raw.split(/[,-]/).map((s) => (/^\s*\d+\s*$/.test(s) ? Number(s) : s.trim()))
    case 'union':
      return /^\d+$/.test(raw) ? Number(raw) : raw
    default:
      return raw
  }
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown) {
  let cur = obj
  for (const k of path.slice(0, -1)) {
    if (typeof cur[k] !== 'object' || cur[k] === null) cur[k] = {}
    cur = cur[k] as Record<string, unknown>
  }
  cur[path[path.length - 1]] = value
}

export interface LoadOptions {
  file?: string
  env?: NodeJS.ProcessEnv
  cwd?: string
}

export interface LoadedConfig {
  config: Config
  file?: string
}

export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env
  const cwd = opts.cwd ?? process.cwd()
  const explicit = opts.file ?? env.EDGEHUB_CONFIG
  const file = explicit
    ? resolve(cwd, explicit)
    : existsSync(resolve(cwd, DEFAULT_FILE))
      ? resolve(cwd, DEFAULT_FILE)
      : undefined
  const where = file ?? 'defaults and environment'
  const problems: string[] = []

  let raw: Record<string, unknown> = {}
  if (file) {
    if (!existsSync(file)) throw new ConfigError(`edgehub: config file not found: ${file}`)
    try {
      const parsed = parseYaml(readFileSync(file, 'utf8'))
      if (parsed != null && (typeof parsed !== 'object' || Array.isArray(parsed)))
        problems.push('(top): expected a mapping of settings')
      else raw = parsed ?? {}
    } catch (err) {
      throw new ConfigError(`edgehub: cannot parse ${file}: ${(err as Error).message.split('\n')[0]}`)
    }
  }

  const settings = envSettings()
  const fromEnv = new Map<string, string>()
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || NON_SETTING_ENV.has(name) || value === undefined) continue
    const leaf = settings.get(name)
    if (!leaf) {
      problems.push(
        `${name}: unknown environment variable; settings are ${[...settings.keys()].slice(0, 4).join(', ')}, … (see docs/config.md)`,
      )
      continue
    }
    setPath(raw, leaf.path, envValue(leaf, value))
    fromEnv.set(leaf.path.join('.'), name)
  }

  // JupyterHub's name for the auth state keys, `;`-separated, when the configuration names none
  const jupyterhubKeys = env.JUPYTERHUB_CRYPT_KEY?.split(';')
    .map((k) => k.trim())
    .filter(Boolean)
  if (jupyterhubKeys?.length) {
    const auth = (raw.auth ?? {}) as Record<string, unknown>
    if (auth.cryptKeys === undefined) {
      raw.auth = { ...auth, cryptKeys: jupyterhubKeys }
      fromEnv.set('auth.cryptKeys', 'JUPYTERHUB_CRYPT_KEY')
      jupyterhubKeys.forEach((_, i) => fromEnv.set(`auth.cryptKeys.${i}`, 'JUPYTERHUB_CRYPT_KEY'))
    }
  }

  const result = configSchema.safeParse(raw)
  if (result.success) problems.push(...authenticatorSettingsProblems(result.data.auth))
  if (
    result.success &&
    [result.data.auth.kind, ...result.data.auth.also].includes('remote-user') &&
    result.data.proxy.trustedProxies.length === 0
  )
    problems.push(
      'proxy.trustedProxies: needed with auth.kind remote-user: the front servers whose auth.remote-user.header is believed (from anyone else it is blanked, so nobody could log in)',
    )
  if (result.success && result.data.auth.enableAuthState && result.data.auth.cryptKeys.length === 0)
    problems.push(
      "auth.cryptKeys: needed when auth.enableAuthState is true (or JupyterHub's JUPYTERHUB_CRYPT_KEY; make one with openssl rand -hex 32)",
    )
  if (!result.success) {
    for (const issue of result.error.issues) {
      const base = issue.path.map(String)
      const keys =
        issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...base, k].join('.')) : [base.join('.') || '(top)']
      for (const key of keys) {
        const msg =
          issue.code === 'unrecognized_keys' ? 'unknown setting' : issue.message.replace(/^Invalid input: /, '')
        const envName = fromEnv.get(key)
        problems.push(`${key}: ${msg}${envName ? ` (from ${envName})` : ''}`)
      }
    }
  }
  if (problems.length > 0 || !result.success) {
    const n = problems.length
    throw new ConfigError(
      `edgehub: invalid configuration in ${where} (${n} problem${n === 1 ? '' : 's'})\n  ${problems.join('\n  ')}`,
    )
  }
  const config = result.data
  config.dataDir = resolve(cwd, config.dataDir)
  return { config: Object.freeze(config) as Config, file }
}
