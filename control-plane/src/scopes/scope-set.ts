// Expanded scopes: each base scope with the entities it applies to ('all', or sets of users,
// servers ("user/name"), groups and services). Expansion, checks and intersection follow
// JupyterHub's rules (docs/source/rbac/scopes.md).
import { FILTER_KINDS, SCOPES, SELF_SCOPES, type FilterKind } from './vocabulary'

export type Filter = 'all' | Partial<Record<FilterKind, Set<string>>>
export type ScopeSet = Map<string, Filter>

/** Who a scope is expanded for: fills `self` and filter shorthands such as `!user` and `!server`. */
export interface Owner {
  kind: 'user' | 'service'
  name: string
  /** For a server's own token: "user/servername". */
  server?: string
}

/** The thing a request acts on; a filter matches through user → server and group → user. */
export interface Target {
  user?: string
  server?: string
  group?: string
  service?: string
  /** Groups of `user` (needed only when a group filter could match). */
  groups?: readonly string[]
}

export class ScopeError extends Error {
  override name = 'ScopeError'
}

interface Parsed {
  base: string
  kind?: FilterKind
  value?: string
}

function parse(scope: string): Parsed {
  // only the first "!" separates: a filter's value (a user name) may hold "!" itself
  const bang = scope.indexOf('!')
  const base = bang < 0 ? scope : scope.slice(0, bang)
  const filter = bang < 0 ? undefined : scope.slice(bang + 1)
  if (!(base in SCOPES)) throw new ScopeError(`unknown scope: ${scope}`)
  if (filter === undefined) return { base }
  const eq = filter.indexOf('=')
  const kind = (eq < 0 ? filter : filter.slice(0, eq)) as FilterKind
  if (!FILTER_KINDS.includes(kind))
    throw new ScopeError(`unknown filter in scope ${scope}: use !user=, !server=, !group= or !service=`)
  const value = eq < 0 ? undefined : filter.slice(eq + 1)
  if (value === '') throw new ScopeError(`empty filter in scope ${scope}`)
  if (kind === 'server' && value !== undefined && !value.includes('/'))
    throw new ScopeError(`!server= takes "user/servername" in scope ${scope}`)
  return { base, kind, value }
}

/** A readable error for a scope that is not in the vocabulary (undefined when it is fine). */
export function scopeProblem(scope: string): string | undefined {
  try {
    parse(scope)
    return undefined
  } catch (err) {
    return (err as Error).message
  }
}

function withSubscopes(base: string, out = new Set<string>()): Set<string> {
  if (out.has(base)) return out
  out.add(base)
  for (const sub of SCOPES[base]?.subscopes ?? []) withSubscopes(sub, out)
  return out
}

function grant(set: ScopeSet, base: string, kind?: FilterKind, value?: string): void {
  const cur = set.get(base)
  if (cur === 'all') return
  if (!kind || value === undefined) return void set.set(base, 'all')
  const f = cur ?? {}
  ;(f[kind] ??= new Set()).add(value)
  set.set(base, f)
}

function shorthand(kind: FilterKind, owner: Owner | undefined, scope: string): string {
  const v =
    kind === 'user' && owner?.kind === 'user'
      ? owner.name
      : kind === 'server'
        ? owner?.server
        : kind === 'service' && owner?.kind === 'service'
          ? owner.name
          : undefined
  if (!v) throw new ScopeError(`scope ${scope} needs a value after !${kind}= here`)
  return v
}

/**
 * Expands raw scopes (as written in roles and tokens) with their subscopes. `self` becomes the
 * owner's own scopes; `inherit` and `(no_scope)` grant nothing by themselves.
 */
export function expand(scopes: Iterable<string>, owner?: Owner): ScopeSet {
  const set: ScopeSet = new Map()
  for (const scope of scopes) {
    if (scope === 'inherit' || scope === '(no_scope)') continue
    if (scope === 'self') {
      if (owner?.kind === 'user')
        for (const s of SELF_SCOPES) for (const b of withSubscopes(s)) grant(set, b, 'user', owner.name)
      continue
    }
    const p = parse(scope)
    const value = p.kind && (p.value ?? shorthand(p.kind, owner, scope))
    for (const b of withSubscopes(p.base)) grant(set, b, p.kind, value)
  }
  return set
}

export function union(...sets: ScopeSet[]): ScopeSet {
  const out: ScopeSet = new Map()
  for (const s of sets) {
    for (const [base, f] of s) {
      if (f === 'all') grant(out, base)
      else for (const kind of FILTER_KINDS) for (const v of f[kind] ?? []) grant(out, base, kind, v)
    }
  }
  return out
}

/** Whether `set` grants `base` on `target` (without a target: on everything). */
export function has(set: ScopeSet, base: string, target?: Target): boolean {
  const f = set.get(base)
  if (!f) return false
  if (f === 'all') return true
  if (!target) return false
  if (target.user !== undefined && f.user?.has(target.user)) return true
  if (target.server !== undefined && f.server?.has(target.server)) return true
  if (target.service !== undefined && f.service?.has(target.service)) return true
  if (f.group) {
    if (target.group !== undefined && f.group.has(target.group)) return true
    if (target.groups?.some((g) => f.group!.has(g))) return true
  }
  return false
}

/** Whether `set` grants `base` on anything at all (a list endpoint then filters what it shows). */
export function hasAny(set: ScopeSet, base: string): boolean {
  return set.has(base)
}

/** Whether checking `base` for a user could depend on the user's groups. */
export function needsGroups(set: ScopeSet, ...bases: string[]): boolean {
  return bases.some((b) => {
    const f = set.get(b)
    return !!f && f !== 'all' && !!f.group?.size
  })
}

/** Whether checking any of `bases` gives the same answer for every target (each absent or unfiltered). */
export function targetFree(set: ScopeSet, ...bases: string[]): boolean {
  return bases.every((b) => {
    const f = set.get(b)
    return f === undefined || f === 'all'
  })
}

/**
 * What both sets grant (a token's scopes limited to its owner's). Filters meet through the
 * hierarchy: a server in one set survives when the other grants its user or one of its user's groups,
 * a user survives when the other grants one of its groups.
 */
export async function intersect(
  a: ScopeSet,
  b: ScopeSet,
  groupsOf: (user: string) => Promise<readonly string[]>,
): Promise<ScopeSet> {
  const out: ScopeSet = new Map()
  for (const [base, fa] of a) {
    const fb = b.get(base)
    if (!fb) continue
    if (fa === 'all' || fb === 'all') {
      out.set(base, fa === 'all' ? fb : fa)
      continue
    }
    for (const [x, y] of [
      [fa, fb],
      [fb, fa],
    ] as const) {
      for (const kind of FILTER_KINDS) {
        for (const v of x[kind] ?? []) {
          let target: Target
          if (kind === 'server') {
            const user = v.slice(0, v.indexOf('/'))
            target = { server: v, user, groups: y.group ? await groupsOf(user) : undefined }
          } else if (kind === 'user') target = { user: v, groups: y.group ? await groupsOf(v) : undefined }
          else target = { [kind]: v }
          if (has(new Map([[base, y]]), base, target)) grant(out, base, kind, v)
        }
      }
    }
  }
  return out
}

/** The set as scope strings, sorted ("read:users", "servers!user=alice"). */
export function toStrings(set: ScopeSet): string[] {
  const out: string[] = []
  for (const [base, f] of set) {
    if (f === 'all') out.push(base)
    else for (const kind of FILTER_KINDS) for (const v of f[kind] ?? []) out.push(`${base}!${kind}=${v}`)
  }
  return out.sort()
}

/** Of the raw `scopes` (expanded for `owner`), those `held` does not fully grant. */
export async function scopesNotHeld(
  scopes: readonly string[],
  owner: Owner,
  held: ScopeSet,
  groupsOf: (user: string) => Promise<readonly string[]>,
): Promise<string[]> {
  const out: string[] = []
  for (const s of scopes) {
    const wanted = expand([s], owner)
    const granted = new Set(toStrings(await intersect(wanted, held, groupsOf)))
    if (toStrings(wanted).some((x) => !granted.has(x))) out.push(s)
  }
  return out
}
