// The lti13 authenticator's pieces without a platform: claims by name or CLAIM.KEY (claim names are
// URLs with dots), course roles and groups, what auth_state keeps, the settings' one-line problems
// and bounds, and begin's authorization request.
import { describe, expect, it } from 'vitest'
import { HubError } from '../../../runtime/src/errors'
import { claimAt, courseGroups, courseRoles, launchState, usernameFrom } from './claims'
import { createLti13Authenticator, launchUrlOf } from './index'
import { lti13Settings, lti13SettingsProblems } from './settings'

const LTI = 'https://purl.imsglobal.org/spec/lti/claim/'
const MEMBERSHIP = 'http://purl.imsglobal.org/vocab/lis/v2/membership'

describe('claims', () => {
  const claims = {
    sub: '42',
    email: 'ada@uni.example',
    [`${LTI}lis`]: { person_sourcedid: 'ada-sis' },
    [`${LTI}custom`]: { 'user.name': 'ada-custom', username: 'ada-c' },
    [`${LTI}context`]: { id: 'Phys 101/2024', title: 'Physics' },
    [`${LTI}roles`]: [
      `${MEMBERSHIP}#Instructor`,
      `${MEMBERSHIP}/Instructor#TeachingAssistant`,
      'http://purl.imsglobal.org/vocab/lis/v2/institution/person#Faculty',
      'Learner',
      'urn:lti:role:ims/lis/Odd Role',
    ],
  }

  it('reads a claim by name, or a key of an object claim whose name has dots', () => {
    expect(claimAt(claims, 'email')).toBe('ada@uni.example')
    expect(claimAt(claims, `${LTI}lis.person_sourcedid`)).toBe('ada-sis')
    expect(claimAt(claims, `${LTI}custom.username`)).toBe('ada-c')
    expect(claimAt(claims, `${LTI}custom.user.name`)).toBe('ada-custom')
    expect(claimAt(claims, `${LTI}lis.missing`)).toBeUndefined()
  })

  it('refuses a launch without the user name claim with a message naming it', () => {
    expect(usernameFrom(claims, 'sub')).toBe('42')
    const err = (() => {
      try {
        usernameFrom(claims, 'preferred_username')
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(HubError)
    expect((err as HubError).status).toBe(403)
    expect((err as HubError).message).toContain('"preferred_username"')
  })

  it('takes the course roles only, as short names, and makes course groups with a safe id', () => {
    expect(courseRoles(claims).sort()).toEqual(['instructor', 'learner', 'teachingassistant'])
    expect(courseGroups(claims, 'course-').sort()).toEqual([
      'course-Phys-101-2024',
      'course-Phys-101-2024-instructor',
      'course-Phys-101-2024-learner',
      'course-Phys-101-2024-teachingassistant',
    ])
    expect(courseGroups({ sub: 'x', [`${LTI}roles`]: [`${MEMBERSHIP}#Learner`] }, 'course-')).toEqual([])
  })

  it('keeps the LTI claims in auth_state by their short names', () => {
    const state = launchState({ ...claims, nonce: 'n', aud: 'tool' })
    expect(state).toMatchObject({ sub: '42', email: 'ada@uni.example' })
    expect(state.lti).toMatchObject({ context: { id: 'Phys 101/2024' }, lis: { person_sourcedid: 'ada-sis' } })
    expect(state).not.toHaveProperty('nonce')
  })
})

describe('settings', () => {
  it('names each missing setting in one line', () => {
    expect(lti13SettingsProblems(lti13Settings.parse({}))).toEqual([
      expect.stringMatching(/^auth\.lti13\.issuer: /),
      expect.stringMatching(/^auth\.lti13\.clientIds: /),
      expect.stringMatching(/^auth\.lti13\.authorizeUrl: /),
      expect.stringMatching(/^auth\.lti13\.jwksUrl: /),
      expect.stringMatching(/^auth\.lti13\.deploymentIds: /),
    ])
  })

  it('bounds times and refuses http off loopback', () => {
    for (const bad of [
      { clockSkewSec: 301 },
      { maxTokenAgeSec: 10 },
      { jwksCacheSec: 10 },
      { httpTimeoutSec: 0 },
      { loginTimeoutSec: 7200 },
      { jwksUrl: 'http://platform.example/jwks' },
      { groupPrefix: 'a/b' },
    ])
      expect(lti13Settings.safeParse(bad).success, JSON.stringify(bad)).toBe(false)
    expect(lti13Settings.parse({ jwksUrl: 'https://platform.example/jwks' }).usernameClaim).toBe('email')
  })
})

describe('begin', () => {
  const s = lti13Settings.parse({
    issuer: 'https://lms.example',
    clientIds: ['tool-1', 'tool-2'],
    authorizeUrl: 'https://lms.example/auth?x=1',
    jwksUrl: 'https://lms.example/jwks',
    deploymentIds: ['d1'],
  })
  const redirect = createLti13Authenticator(s).redirect!

  it('asks for the client id the platform named, with its hints, at the launch URL', async () => {
    const { url, flow } = await redirect.begin({
      state: 'st',
      callbackUrl: 'https://hub.example/hub/oauth_callback',
      initiation: { iss: 'https://lms.example', login_hint: 'lh', lti_message_hint: 'mh', client_id: 'tool-2' },
    } as Parameters<typeof redirect.begin>[0])
    const u = new URL(url)
    expect(u.searchParams.get('x')).toBe('1')
    expect(Object.fromEntries(u.searchParams)).toMatchObject({
      client_id: 'tool-2',
      login_hint: 'lh',
      lti_message_hint: 'mh',
      redirect_uri: 'https://hub.example/hub/lti13/oauth_callback',
      state: 'st',
      nonce: flow.nonce,
    })
    expect(flow.clientId).toBe('tool-2')
  })

  it('finds the launch URL from the hub callback URL', () => {
    expect(launchUrlOf('https://hub.example/prefix/hub/oauth_callback')).toBe(
      'https://hub.example/prefix/hub/lti13/oauth_callback',
    )
    expect(launchUrlOf('https://hub.example/hub/lti13/oauth_callback')).toBe(
      'https://hub.example/hub/lti13/oauth_callback',
    )
  })
})
