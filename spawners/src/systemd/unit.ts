// The transient unit of one server: its name, the systemd-run command line that starts it, and the
// environment file it reads (the server's token never appears on a command line).
import type { SystemdSettings } from './settings'

/** a-z 0-9 kept, every other byte as _XX: what is left is a valid piece of a unit name with no `-`. */
const escapeName = (s: string): string =>
  [...Buffer.from(s, 'utf8')]
    .map((b) => {
      const c = String.fromCharCode(b)
      return /[a-z0-9]/.test(c) ? c : `_${b.toString(16).padStart(2, '0')}`
    })
    .join('')

/** PREFIX + user (+ `-` + server) + `.service`; the escaped names hold no `-`, so two servers never share one. */
export function unitName(prefix: string, user: string, server: string): string {
  const name = `${prefix}${escapeName(user)}${server ? `-${escapeName(server)}` : ''}.service`
  if (name.length > 255) throw new Error(`the unit name of ${user}'s server ${server} is longer than systemd allows`)
  return name
}

export interface UnitSpec {
  unit: string
  /** Account name (User=), or undefined with dynamicUsers. */
  account?: { name: string; home: string }
  envFile: string
  argv: string[]
}

/** The directory the server runs in: the account's home, or its StateDirectory with dynamicUsers. */
export function workingDirectory(spec: Pick<UnitSpec, 'unit' | 'account'>): string {
  return spec.account ? spec.account.home : `/var/lib/${stateDirectory(spec.unit)}`
}

const stateDirectory = (unit: string): string => unit.replace(/\.service$/, '')

/** The unit's properties (Key=Value), as systemd-run -p takes them and a unit file's [Service] holds them. */
export function unitProperties(s: SystemdSettings, spec: Pick<UnitSpec, 'unit' | 'account' | 'envFile'>): string[] {
  const home = workingDirectory(spec)
  const props = ['Type=exec', `EnvironmentFile=${spec.envFile}`, `WorkingDirectory=${home}`]
  if (spec.account)
    props.push(`User=${spec.account.name}`) // its primary group and supplementary groups, as a login's
  else props.push('DynamicUser=yes', `StateDirectory=${stateDirectory(spec.unit)}`)
  if (s.memoryMax !== undefined) props.push(`MemoryMax=${s.memoryMax}`)
  if (s.cpuQuotaPercent !== undefined) props.push(`CPUQuota=${s.cpuQuotaPercent}%`)
  if (s.privateTmp) props.push('PrivateTmp=yes')
  if (s.noNewPrivileges) props.push('NoNewPrivileges=yes')
  props.push(`ProtectSystem=${s.protectSystem}`, `ProtectHome=${s.protectHome}`)
  // the user's own home stays writable (a dynamic user's state directory is, by systemd itself)
  if (spec.account) {
    if (s.protectHome === 'tmpfs') props.push(`BindPaths=${home}`)
    else if (s.protectHome === 'read-only' || s.protectSystem === 'strict') props.push(`ReadWritePaths=${home}`)
  }
  for (const p of s.readOnlyPaths) props.push(`ReadOnlyPaths=${p}`)
  for (const p of s.readWritePaths) props.push(`ReadWritePaths=${p}`)
  return props
}

/** `systemd-run ARGS`: starts the unit and returns once its command has been executed (Type=exec). */
export function systemdRunArgs(s: SystemdSettings, spec: UnitSpec): string[] {
  return [
    `--unit=${spec.unit}`,
    `--description=edgehub server ${spec.unit}`,
    '--quiet',
    ...unitProperties(s, spec).map((p) => `--property=${p}`),
    '--',
    ...spec.argv,
  ]
}

/** The same unit as a unit file, for `systemd-analyze verify` (the tests check the properties with it). */
export function unitFile(s: SystemdSettings, spec: UnitSpec): string {
  const quoted = spec.argv.map((a) => `"${a.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(' ')
  return [
    '[Unit]',
    `Description=edgehub server ${spec.unit}`,
    '',
    '[Service]',
    ...unitProperties(s, spec),
    `ExecStart=${quoted}`,
    '',
  ].join('\n')
}

/**
 * An EnvironmentFile= for env: one KEY='value' a line (single quotes keep every character as it is);
 * a value holding a quote is double-quoted with \ before " \ ` $. Names must be shell-like and values
 * one line: anything else is refused, naming the variable.
 */
export function environmentFile(env: Record<string, string>): string {
  const lines: string[] = []
  for (const [k, v] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
      throw new Error(`environment variable name ${JSON.stringify(k)} cannot go in a unit's environment`)
    if (/[\n\r\0]/.test(v)) throw new Error(`environment variable ${k}: a unit's environment cannot hold a line break`)
    lines.push(v.includes("'") ? `${k}="${v.replace(/[\\"`$]/g, (c) => `\\${c}`)}"` : `${k}='${v}'`)
  }
  return lines.map((l) => `${l}\n`).join('')
}
