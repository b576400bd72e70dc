// The hub's key names against the fixture the proxy's spec also reads (the hub/proxy contract).
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  keyNames,
  PROXY_TABLES,
  STREAM_FIELDS,
  SESSION_COOKIE,
  COOKIE_VERSION,
  XSRF_COOKIE,
  HOST_COOKIE,
  ACTIVITY_MERGE_SCRIPT,
} from './keys'

const doc = JSON.parse(readFileSync(new URL('../../../test/fixtures/redis-keys.json', import.meta.url), 'utf8'))

describe('Redis key names', () => {
  const k = keyNames(doc.prefix)
  it('match the fixture shared with the proxy', () => {
    expect(k.proxyVersion).toBe(doc.prefix + doc.proxy.version)
    expect(k.proxyChanges).toBe(doc.prefix + doc.proxy.changes)
    expect(Object.fromEntries(PROXY_TABLES.map((t) => [t, k.proxyTable(t)]))).toEqual(
      Object.fromEntries(Object.entries(doc.proxy.tables).map(([t, key]) => [t, doc.prefix + key])),
    )
    expect(k.activity).toBe(doc.prefix + doc.activity)
    expect(STREAM_FIELDS).toEqual(doc.streamEntry)
    expect({ name: SESSION_COOKIE, version: COOKIE_VERSION }).toEqual(doc.cookie)
    expect({ session: SESSION_COOKIE, xsrf: XSRF_COOKIE, host: HOST_COOKIE }).toEqual(doc.cookies)
    expect(ACTIVITY_MERGE_SCRIPT).toBe(doc.activityMerge) // the proxy merges with the same script
  })
})
