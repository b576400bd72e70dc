// Our Lua runs unchanged on OpenResty (the proxy image) and on Debian's nginx with
// libnginx-mod-http-lua (every other test). The places where the two differ are listed in
// proxy/README.md ("On the OpenResty image"); this is the Debian side of each, in a Debian nginx
// started with the template's own module lines and lua_package_path:
// - module loading: Debian needs the two load_module lines render.ts adds when the .so files exist
//   (OpenResty has the module built in and gets none);
// - resty.core: Debian's lua module loads it from lua-resty-core under /usr/share/lua (found through
//   the ';;' of lua_package_path); OpenResty's from its own lualib;
// - resty.lrucache: lua-resty-lrucache, the same way;
// - JSON: cjson.safe from lua-cjson (json.lua falls back to dkjson only when cjson is missing);
// - libcrypto: crypto.lua finds HMAC and SHA256 in the nginx binary's own symbols (ffi.C: Debian's
//   nginx links libcrypto.so.3 dynamically, OpenResty's its bundled OpenSSL) before any ffi.load.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn, type ChildProcess } from 'node:child_process'
import { createHmac } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../../runtime/src/ports'
import { waitFor } from '../../../runtime/src/wait'
import { DEFAULT_LUA_DIR, defaultModules, renderNginxConf } from '../../../proxy/src/render'

const dir = mkdtempSync(join(tmpdir(), 'edgehub-lua-paths-'))
let nginx: ChildProcess | undefined
let url = ''

beforeAll(async () => {
  const port = await freePort()
  url = `http://127.0.0.1:${port}`
  mkdirSync(join(dir, 'logs'))
  // the template's own lines, so that what runs here is what the proxy runs
  const template = renderNginxConf({
    listen: { host: '127.0.0.1', port },
    hubUpstreams: ['127.0.0.1:1'],
    redis: { host: '127.0.0.1', port: 1 },
    prefix: 'edgehub:',
    runDir: dir,
  })
  const moduleLines = template.split('\n').filter((l) => l.startsWith('load_module '))
  const packagePath = template
    .split('\n')
    .find((l) => l.includes('lua_package_path'))!
    .trim()
  writeFileSync(
    join(dir, 'nginx.conf'),
    `${moduleLines.join('\n')}
${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log notice;
events { worker_connections 64; }
http {
    access_log off;
    ${packagePath}
    server {
        listen 127.0.0.1:${port};
        location = /paths {
            content_by_lua_block {
                local ffi = require "ffi"
                local json = require "edgehub.json"
                local crypto = require "edgehub.crypto"
                local in_binary = pcall(function() return ffi.C.HMAC and ffi.C.SHA256 end)
                local function origin(name)
                    local p = package.searchpath(name, package.path)
                    return p
                end
                ngx.say(json.encode({
                    resty_core = package.loaded["resty.core"] ~= nil,
                    resty_core_from = origin("resty.core"),
                    lrucache_from = origin("resty.lrucache"),
                    json = json.impl,
                    libcrypto_in_binary = in_binary,
                    hmac = (crypto.hmac_sha256("key", "message"):gsub(".", function(c)
                        return string.format("%02x", c:byte())
                    end)),
                    lua_module = ngx.config.ngx_lua_version,
                }))
            }
        }
    }
}
`,
  )
  nginx = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' })
  await waitFor(
    'nginx to answer',
    () =>
      fetch(`${url}/paths`).then(
        (r) => r.ok,
        () => false,
      ),
    { timeoutMs: 20_000, intervalMs: 50 },
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${readFileSync(join(dir, 'logs/error.log'), 'utf8').slice(-2000)}`)
  })
})

afterAll(async () => {
  if (nginx?.pid && nginx.exitCode === null) {
    const exited = new Promise((resolve) => nginx!.once('exit', resolve))
    nginx.kill('SIGTERM')
    await exited
  }
  rmSync(dir, { recursive: true, force: true })
})

describe('the Lua paths that differ from OpenResty, on Debian nginx', () => {
  it("loads Debian's lua module through the template's load_module lines", () => {
    expect(defaultModules()).toEqual([
      '/usr/share/nginx/modules/ndk_http_module.so',
      '/usr/share/nginx/modules/ngx_http_lua_module.so',
    ])
    const conf = readFileSync(join(dir, 'nginx.conf'), 'utf8')
    for (const m of defaultModules()) expect(conf).toContain(`load_module ${m};`)
    expect(conf).toContain(`lua_package_path "${DEFAULT_LUA_DIR}/?.lua;;";`)
  })

  it('finds resty.core and resty.lrucache through the default path, cjson, and libcrypto in the binary', async () => {
    const r = await fetch(`${url}/paths`)
    const got = (await r.json()) as Record<string, unknown>
    expect(got.resty_core).toBe(true)
    expect(got.resty_core_from).toMatch(/^\/usr\/share\/lua\/5\.1\/resty\/core\.lua$/)
    expect(got.lrucache_from).toMatch(/^\/usr\/share\/lua\/5\.1\/resty\/lrucache\.lua$/)
    expect(got.json).toBe('cjson')
    expect(got.libcrypto_in_binary).toBe(true)
    expect(got.hmac).toBe(createHmac('sha256', 'key').update('message').digest('hex'))
    expect(Number(got.lua_module)).toBeGreaterThanOrEqual(10016) // 0.10.16: resty.core required
  })
})
