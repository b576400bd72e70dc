// What the home page lists, from an operator's config file: services with a URL and `display`
// (JupyterHub's default, true), and that text from the config or from users is written as text.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { loadConfig } from '../config/load'
import { ConfigError } from '../../../runtime/src/errors'
import { neverStarted, type ServerRecord } from '../state/servers'
import { ago, displayedServices, HomePage } from './home'

const dir = mkdtempSync(join(tmpdir(), 'edgehub-home-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let files = 0
/** The config an operator writes, loaded as the hub loads it at its start. */
function configWith(settings: Record<string, unknown>) {
  const file = join(dir, `edgehub-${++files}.yaml`)
  writeFileSync(file, stringify(settings))
  return loadConfig({ file, env: {} }).config
}

const render = async (el: unknown) => String(await (el as { toString(): string | Promise<string> }).toString())

const stopped = (name: string, displayName = ''): ServerRecord => ({ ...neverStarted('ada'), name, displayName })

describe('services on the home page', () => {
  it('lists services with a URL, displayed unless display is false, linked by their prefix', () => {
    const config = configWith({
      services: [
        { name: 'grader', url: 'http://127.0.0.1:9000' },
        { name: 'stats', url: 'http://127.0.0.1:9001', display: false },
        { name: 'culler', apiToken: 'x'.repeat(32) },
        { name: 'nbviewer', url: 'http://127.0.0.1:9002', display: true },
      ],
    })
    expect(displayedServices(config.services)).toEqual([
      { name: 'grader', href: '/services/grader/' },
      { name: 'nbviewer', href: '/services/nbviewer/' },
    ])
  })

  it('refuses a service name with markup at the start, naming the key', () => {
    let message = ''
    try {
      configWith({ services: [{ name: '<img src=x onerror=alert(1)>', url: 'http://127.0.0.1:9000' }] })
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError)
      message = (err as Error).message
    }
    expect(message).toMatch(/^\s+services\.0\.name: /m)
  })

  it('writes service names and server display names as text, not markup', async () => {
    const html = await render(
      HomePage({
        xsrf: 'x',
        user: { name: 'ada', admin: false },
        baseUrl: '/user/ada/',
        passwords: true,
        named: { servers: [stopped('work', '<img src=x onerror=alert(1)>')], limit: 0 },
        services: [{ name: '<script>alert(2)</script>', href: '/services/a/' }],
      }),
    )
    expect(html).not.toContain('<img src=x')
    expect(html).not.toContain('<script>alert(2)')
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;')
    expect(html).toContain('&lt;script&gt;alert(2)&lt;/script&gt;')
  })
})

describe('server states on the home page', () => {
  const page = (server: ServerRecord) =>
    render(
      HomePage({ xsrf: 'x', user: { name: 'ada', admin: false }, baseUrl: '/user/ada/', passwords: false, server }),
    )

  it('shows a stop under way as stopping, with no button to press, and a start under way as starting', async () => {
    const stopping = await page({ ...neverStarted('ada'), state: 'stopping' })
    expect(stopping).toContain('id="server-status">stopping<')
    expect(stopping).toContain('id="stop-pending"')
    expect(stopping).not.toMatch(/id="(start|stop|open)"/)
    const starting = await page({ ...neverStarted('ada'), state: 'pending' })
    expect(starting).toContain('id="server-status">starting<')
    expect(starting).toContain('href="/hub/spawn-pending/ada"')
  })

  it('links the sharing page of the servers the person may share only', async () => {
    const html = await render(
      HomePage({
        xsrf: 'x',
        user: { name: 'ada', admin: false },
        baseUrl: '/user/ada/',
        passwords: false,
        named: { servers: [stopped('lab'), stopped('mine')], limit: 0 },
        mayShare: true,
        shareable: new Set(['', 'lab']),
      }),
    )
    expect(html).toContain('href="/hub/share/ada/"')
    expect(html).toContain('href="/hub/share/ada/lab"')
    expect(html).not.toContain('href="/hub/share/ada/mine"')
  })

  it('says how long ago in words, the exact time beside', () => {
    const now = Date.parse('2026-01-02T12:00:00Z')
    const at = (sec: number) => ago(new Date(now - sec * 1000).toISOString(), now)
    expect([at(5), at(60), at(119), at(3600 * 2), at(86_400), at(86_400 * 40)]).toEqual([
      'just now',
      '1 minute ago',
      '1 minute ago',
      '2 hours ago',
      '1 day ago',
      '40 days ago',
    ])
    expect(at(-30)).toBe('just now') // a clock slightly ahead
    expect(ago('not a time', now)).toBe('not a time')
  })
})
