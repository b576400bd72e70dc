// proxy.metricsPort and proxy.metricsHost as the proxy's nginx.conf renders them: the metrics
// server on its own address only when set, nothing counted otherwise.
import { describe, expect, it } from 'vitest'
import { renderNginxConf } from '../../../proxy/src/render'
import { configSchema } from '../config/schema'
import { proxyOptions } from '../stack/proxy'

const base = {
  listen: { host: '127.0.0.1', port: 8000 },
  hubUpstreams: ['127.0.0.1:8081'],
  redis: { host: '127.0.0.1', port: 6379 },
  prefix: 'edgehub:',
  runDir: '/tmp/run',
  modules: [],
}

describe('the proxy metrics port in nginx.conf', () => {
  it('is absent by default, and metrics.lua is initialised off', () => {
    const conf = renderNginxConf(base)
    expect(conf).toContain('require("edgehub.metrics").init(false)')
    expect(conf).not.toContain('location = /metrics')
    expect(conf).not.toContain('metrics").log_hub()')
    expect(proxyOptions(configSchema.parse({ dataDir: '/tmp/x' })).metrics).toBeUndefined()
  })

  it('listens on loopback by default when proxy.metricsPort is set, in a server of its own', () => {
    const opts = proxyOptions(configSchema.parse({ dataDir: '/tmp/x', proxy: { metricsPort: 9145 } }))
    expect(opts.metrics).toEqual({ host: '127.0.0.1', port: 9145 })
    const conf = renderNginxConf({ ...base, metrics: opts.metrics })
    expect(conf).toContain('require("edgehub.metrics").init(true)')
    expect(conf).toMatch(/server \{\n\s+listen 127\.0\.0\.1:9145;\n\s+access_log off;\n\s+location = \/metrics \{/)
    expect(conf.match(/listen 127\.0\.0\.1:8000;/g)).toHaveLength(1) // the public server has no /metrics
    expect(conf.split('location = /metrics')).toHaveLength(2)
  })

  it('refuses a bad address or the public port, naming the key', () => {
    expect(() => renderNginxConf({ ...base, metrics: { host: 'a b', port: 9145 } })).toThrow(/metrics\.host/)
    expect(() => renderNginxConf({ ...base, metrics: { host: '127.0.0.1', port: 8000 } })).toThrow(
      /metrics\.port: 8000 is already the proxy's public/,
    )
    expect(() => configSchema.parse({ dataDir: '/tmp/x', proxy: { metricsPort: 70000 } })).toThrow(/metricsPort/)
  })
})
