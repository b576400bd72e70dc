// Profiles: the choices an administrator offers on the spawn page (KubeSpawner's profile_list), shared
// by every spawner that has any. A profile has a slug, a name and a description, the groups it is
// offered to, overrides of the spawner's own settings (the image, limits, volumes: each spawner gives
// the schema of what a profile may override), and named options with choices of their own. The user's
// choice arrives as user_options `{profile: SLUG, 'profile-option-NAME': CHOICE}` (KubeSpawner's keys)
// and is checked here against what this user was offered: nothing else gets through.
import { z } from 'zod'
import { BadRequest } from '../../runtime/src/errors'
import type { Json } from './spawner'

/** Who a server is for: the profiles offered depend on the owner's groups. */
export interface SpawnUser {
  name: string
  groups: readonly string[]
  admin: boolean
}

/** What the spawn page shows: the profiles offered to one user, with their options. */
export interface OptionsForm {
  profiles: Array<{
    slug: string
    displayName: string
    description: string
    default: boolean
    options: Array<{
      name: string
      displayName: string
      choices: Array<{ slug: string; displayName: string; default: boolean }>
    }>
  }>
}

const SLUG = /^[a-z0-9]([a-z0-9_-]{0,62})$/
const slug = z.string().regex(SLUG, 'expected a slug: a-z 0-9 _ -, up to 63 characters, starting with a-z or 0-9')

/**
 * The schema of spawner.KIND.profiles for a spawner whose profiles may override `overrides` (an
 * object schema of its own settings; every field becomes optional).
 */
export function profilesSchema<O extends z.ZodObject>(overrides: O) {
  const partial = overrides.partial().strict()
  const choice = z.strictObject({
    displayName: z.string().min(1).max(200).describe('What the spawn page shows for this choice.'),
    default: z.boolean().default(false).describe('The choice made when the user names none.'),
    overrides: partial.default({}).describe("Settings this choice overrides, over its profile's own."),
  })
  const option = z.strictObject({
    displayName: z.string().min(1).max(200),
    choices: z
      .record(slug, choice)
      .refine((c) => Object.keys(c).length > 0, 'expected at least one choice')
      .refine((c) => Object.values(c).filter((x) => x.default).length <= 1, 'expected at most one default choice'),
  })
  const profile = z.strictObject({
    slug: slug.describe("The profile's name in user_options (`profile`)."),
    displayName: z.string().min(1).max(200),
    description: z.string().max(2000).default(''),
    default: z.boolean().default(false).describe('The profile used when the user names none.'),
    groups: z
      .array(z.string().min(1))
      .max(1000)
      .default([])
      .describe('Offered only to members of these groups; [] offers it to everyone (admins too follow their groups).'),
    overrides: partial.default({}).describe('Settings of this spawner this profile overrides (the image, limits, …).'),
    options: z
      .record(slug, option)
      .default({})
      .describe('Further choices within the profile, each user_options `profile-option-NAME`.'),
  })
  return z
    .array(profile)
    .max(200)
    .default([])
    .superRefine((list, ctx) => {
      const seen = new Set<string>()
      for (const [i, p] of list.entries()) {
        if (seen.has(p.slug)) ctx.addIssue({ code: 'custom', path: [i, 'slug'], message: `duplicate slug ${p.slug}` })
        seen.add(p.slug)
      }
      if (list.filter((p) => p.default).length > 1)
        ctx.addIssue({ code: 'custom', message: 'expected at most one default profile' })
    })
}

/** A profile as profilesSchema parses it, whatever its overrides. */
export interface Profile<Overrides = Record<string, unknown>> {
  slug: string
  displayName: string
  description: string
  default: boolean
  groups: string[]
  overrides: Overrides
  options: Record<
    string,
    { displayName: string; choices: Record<string, { displayName: string; default: boolean; overrides: Overrides }> }
  >
}

function offeredTo<P extends Profile<unknown>>(profiles: readonly P[], user: SpawnUser): P[] {
  return profiles.filter((p) => p.groups.length === 0 || p.groups.some((g) => user.groups.includes(g)))
}

/** The spawn page's form for this user; undefined when no profile is configured. */
export function profileForm(profiles: readonly Profile<unknown>[], user: SpawnUser): OptionsForm | undefined {
  if (profiles.length === 0) return undefined
  const offered = offeredTo(profiles, user)
  const def = offered.find((p) => p.default) ?? offered[0]
  return {
    profiles: offered.map((p) => ({
      slug: p.slug,
      displayName: p.displayName,
      description: p.description,
      default: p === def,
      options: Object.entries(p.options).map(([name, o]) => {
        const first = Object.entries(o.choices).find(([, c]) => c.default)?.[0] ?? Object.keys(o.choices)[0]
        return {
          name,
          displayName: o.displayName,
          choices: Object.entries(o.choices).map(([s, c]) => ({
            slug: s,
            displayName: c.displayName,
            default: s === first,
          })),
        }
      }),
    })),
  }
}

const OPTION_PREFIX = 'profile-option-'

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * A choice's overrides over its profile's: a setting that is a map on both sides (env, labels, node
 * selectors) is merged key by key, the choice winning; any other setting (a list, a string, a number)
 * is replaced whole.
 */
export function mergeOverrides<O>(base: Partial<O>, over: Partial<O>): Partial<O> {
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(over)) out[k] = isRecord(out[k]) && isRecord(v) ? { ...out[k], ...v } : v
  return out as Partial<O>
}

/** A form field or query argument arrives as a list of strings, the API as a string: one string or undefined. */
function single(field: string, v: Json | undefined): string | undefined {
  if (v === undefined || v === null) return undefined
  if (Array.isArray(v)) {
    if (v.length > 1) throw new BadRequest(`user_options.${field}: expected one value, got ${v.length}`, 'bad_option')
    v = v[0] ?? null
    if (v === null) return undefined
  }
  if (typeof v !== 'string') throw new BadRequest(`user_options.${field}: expected a string`, 'bad_option')
  return v
}

const shown = (s: string) => JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s)

/**
 * Checks user_options against the profiles offered to `user`: a profile and choices they were not
 * offered, a key that is no option, or a value that is not a string is a 400 naming the field. No
 * profile configured: the options are kept as given (JupyterHub records any user_options) and give
 * nothing. Returns the options as recorded (every choice explicit) and the overrides they select
 * (the profile's, then each choice's: see mergeOverrides).
 */
export function chooseProfile<O>(
  profiles: readonly Profile<O>[],
  user: SpawnUser,
  options: { [k: string]: Json },
): { options: { [k: string]: Json }; profile?: Profile<O>; overrides: Partial<O> } {
  if (profiles.length === 0) return { options, overrides: {} }
  for (const key of Object.keys(options))
    if (key !== 'profile' && !key.startsWith(OPTION_PREFIX))
      throw new BadRequest(
        `user_options.${key}: not an option of this hub (it offers profile and ${OPTION_PREFIX}NAME)`,
        'bad_option',
      )
  const offered = offeredTo(profiles, user)
  const wanted = single('profile', options.profile)
  const profile =
    wanted === undefined ? (offered.find((p) => p.default) ?? offered[0]) : offered.find((p) => p.slug === wanted)
  if (!profile) {
    if (wanted === undefined)
      throw new BadRequest(`user_options.profile: no profile is offered to ${user.name}`, 'bad_option')
    const names = offered.map((p) => p.slug).join(', ') || 'none'
    throw new BadRequest(
      `user_options.profile: ${shown(wanted)} is not a profile offered to ${user.name} (offered: ${names})`,
      'bad_option',
    )
  }
  const recorded: { [k: string]: Json } = { profile: profile.slug }
  let overrides: Partial<O> = { ...(profile.overrides as Partial<O>) }
  for (const key of Object.keys(options)) {
    if (!key.startsWith(OPTION_PREFIX)) continue
    if (!Object.hasOwn(profile.options, key.slice(OPTION_PREFIX.length)))
      throw new BadRequest(
        `user_options.${key}: profile ${profile.slug} has no option ${shown(key.slice(OPTION_PREFIX.length))}`,
        'bad_option',
      )
  }
  for (const [name, option] of Object.entries(profile.options)) {
    const field = OPTION_PREFIX + name
    const given = single(field, options[field])
    const slugs = Object.keys(option.choices)
    const pick = given ?? slugs.find((s) => option.choices[s]?.default) ?? slugs[0]!
    const choice = Object.hasOwn(option.choices, pick) ? option.choices[pick] : undefined
    if (!choice)
      throw new BadRequest(
        `user_options.${field}: ${shown(pick)} is not a choice of ${profile.slug} (choices: ${slugs.join(', ')})`,
        'bad_option',
      )
    recorded[field] = pick
    overrides = mergeOverrides(overrides, choice.overrides as Partial<O>)
  }
  return { options: recorded, profile, overrides }
}

/**
 * The overrides options already checked by chooseProfile select, for start (which has no groups to
 * judge by: the check was made when the start was asked for). Unknown names give no overrides.
 */
export function profileOverrides<O>(profiles: readonly Profile<O>[], options: { [k: string]: Json }): Partial<O> {
  if (profiles.length === 0) return {}
  try {
    return chooseProfile(
      profiles.map((p) => ({ ...p, groups: [] })),
      { name: '', groups: [], admin: false },
      options,
    ).overrides
  } catch {
    return {}
  }
}
