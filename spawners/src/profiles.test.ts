import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  chooseProfile,
  mergeOverrides,
  profileForm,
  profileOverrides,
  profilesSchema,
  type SpawnUser,
} from './profiles'

const schema = profilesSchema(z.object({ image: z.string(), memLimit: z.number() }))
const profiles = schema.parse([
  { slug: 'small', displayName: 'Small', overrides: { image: 'py:1', memLimit: 1 } },
  {
    slug: 'gpu',
    displayName: 'GPU',
    groups: ['ml'],
    overrides: { image: 'cuda:1', memLimit: 8 },
    options: {
      image: {
        displayName: 'Image',
        choices: { a: { displayName: 'A', overrides: { image: 'cuda:a' } }, b: { displayName: 'B', default: true } },
      },
    },
  },
  { slug: 'big', displayName: 'Big', default: true, overrides: { memLimit: 4 } },
])
const alice: SpawnUser = { name: 'alice', groups: [], admin: false }
const mia: SpawnUser = { name: 'mia', groups: ['ml'], admin: false }

describe('profiles', () => {
  it('offers each user the profiles of their groups, with the default marked', () => {
    expect(profileForm(profiles, alice)!.profiles.map((p) => [p.slug, p.default])).toEqual([
      ['small', false],
      ['big', true],
    ])
    const gpu = profileForm(profiles, mia)!.profiles.find((p) => p.slug === 'gpu')!
    expect(gpu.options).toEqual([
      {
        name: 'image',
        displayName: 'Image',
        choices: [
          { slug: 'a', displayName: 'A', default: false },
          { slug: 'b', displayName: 'B', default: true },
        ],
      },
    ])
    expect(profileForm([], alice)).toBeUndefined()
  })

  it('resolves the default profile and choices when none are named, and records them', () => {
    expect(chooseProfile(profiles, alice, {})).toMatchObject({
      options: { profile: 'big' },
      overrides: { memLimit: 4 },
    })
    expect(chooseProfile(profiles, mia, { profile: 'gpu' })).toMatchObject({
      options: { profile: 'gpu', 'profile-option-image': 'b' },
      overrides: { image: 'cuda:1', memLimit: 8 },
    })
    // a form or query argument arrives as a list of one
    expect(chooseProfile(profiles, mia, { profile: ['gpu'], 'profile-option-image': ['a'] }).overrides).toEqual({
      image: 'cuda:a',
      memLimit: 8,
    })
  })

  it('refuses what was not offered, naming the field', () => {
    const no = (user: typeof alice, options: Record<string, unknown>, msg: RegExp) =>
      expect(() => chooseProfile(profiles, user, options as never)).toThrow(msg)
    no(
      alice,
      { profile: 'gpu' },
      /^user_options\.profile: "gpu" is not a profile offered to alice \(offered: small, big\)$/,
    )
    no(mia, { profile: 'gpu', 'profile-option-image': 'c' }, /^user_options\.profile-option-image: "c" is not a choice/)
    no(
      mia,
      { profile: 'gpu', 'profile-option-size': 'a' },
      /^user_options\.profile-option-size: profile gpu has no option/,
    )
    no(alice, { image: 'evil:latest' }, /^user_options\.image: not an option of this hub/)
    no(alice, { profile: 3 }, /^user_options\.profile: expected a string$/)
    no(alice, { profile: ['small', 'big'] }, /^user_options\.profile: expected one value, got 2$/)
    no(alice, { profile: 'constructor' }, /is not a profile offered/)
    no(mia, { profile: 'gpu', 'profile-option-image': '__proto__' }, /is not a choice/)
  })

  it('merges maps of a choice over its profile key by key, and replaces anything else', () => {
    expect(
      mergeOverrides<Record<string, unknown>>({ env: { A: '1', B: '1' }, cmd: ['a'] }, { env: { B: '2' }, cmd: ['b'] }),
    ).toEqual({
      env: { A: '1', B: '2' },
      cmd: ['b'],
    })
  })

  it('keeps options as given when no profile is configured', () => {
    expect(chooseProfile([], alice, { anything: 1 })).toEqual({ options: { anything: 1 }, overrides: {} })
  })

  it('gives start the overrides of checked options, without judging groups again', () => {
    expect(profileOverrides(profiles, { profile: 'gpu', 'profile-option-image': 'a' })).toEqual({
      image: 'cuda:a',
      memLimit: 8,
    })
  })

  it('refuses duplicate slugs, two defaults, and overrides the spawner does not have', () => {
    const bad = (v: unknown) => schema.safeParse(v).success
    expect(
      bad([
        { slug: 'a', displayName: 'A' },
        { slug: 'a', displayName: 'B' },
      ]),
    ).toBe(false)
    expect(
      bad([
        { slug: 'a', displayName: 'A', default: true },
        { slug: 'b', displayName: 'B', default: true },
      ]),
    ).toBe(false)
    expect(bad([{ slug: 'a', displayName: 'A', overrides: { privileged: true } }])).toBe(false)
    expect(bad([{ slug: 'A b', displayName: 'A' }])).toBe(false)
    expect(bad([{ slug: 'a', displayName: 'A' }])).toBe(true)
  })
})
