// The `edgehub` command line.
import { parseArgs } from 'node:util'
import { loadConfig } from './config/load'
import { buildDeps } from './deps'
import { scopeProblem } from './scopes/scope-set'
import { ConfigError, HubError } from '../../runtime/src/errors'
import { checkUsername } from '../../auth/src'
import { createLogger } from '../../runtime/src/log'
import { StackMismatch } from './stack/identity'
import { LoginThrottle } from './state/login-throttle'
import { tokenLifetime } from './state/token-lifetime'

const USAGE = `usage: edgehub <command> [options]

commands:
  up                      start the one-machine stack (Redis, proxy, hub) in the foreground
  hub                     run one hub (control plane) replica
  proxy                   run one nginx+Lua proxy replica (SIGHUP reloads it)
  user add NAME [--admin] [--password-stdin]
                          create a user (native auth: password read from stdin, else generated and printed)
  user list               list users
  user unlock NAME        forget NAME's failed logins, ending a lock (auth.throttle)
  token issue NAME [--note TEXT] [--expires-in SECONDS] [--scopes S,...]
                          print a new API token for NAME
  oidc rotate-keys [--force]
                          rotate the OpenID Connect signing key if due (--force: now) and drop
                          retired keys no ID token needs any more (the leader does both on its own)
  backup FILE             write the stack's Redis data (one point in time) and data-directory files
                          to FILE (mode 0600; docs/operations.md)
  restore FILE [--force]  put a backup back; --force replaces what Redis holds under redis.prefix
  import-jupyterhub DB.sqlite [--roles-file FILE]
                          import users, groups and roles from a JupyterHub 3-5 database (docs/operations.md)
  config check            validate the configuration and print it (secrets hidden)
  config docs             print the configuration reference (markdown)

options:
  --config FILE           config file (default: ./edgehub.yaml if present; or EDGEHUB_CONFIG)
`

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '')
}

function fail(msg: string, code = 1): never {
  process.stderr.write(`edgehub: ${msg}\n`)
  process.exit(code)
}

async function withDeps<T>(
  configFile: string | undefined,
  fn: (d: Awaited<ReturnType<typeof buildDeps>>) => Promise<T>,
): Promise<T> {
  const { config } = loadConfig({ file: configFile })
  // buildDeps refuses another stack's Redis (StackMismatch): that line is printed as it is
  const d = await buildDeps(config, { log: createLogger('cli', { level: 'warn' }) }).catch((err: Error) =>
    err instanceof StackMismatch ? fail(err.message) : fail(`${err.message}; is the stack running (edgehub up)?`),
  )
  try {
    return await fn(d)
  } finally {
    await d.close()
  }
}

export async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      admin: { type: 'boolean' },
      'password-stdin': { type: 'boolean' },
      note: { type: 'string' },
      'expires-in': { type: 'string' },
      scopes: { type: 'string' },
      force: { type: 'boolean' },
      'roles-file': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  const [cmd, sub, arg] = positionals
  const configFile = values.config
  try {
    if (!cmd || values.help) return void process.stdout.write(USAGE)
    if (cmd === 'up') {
      const { runStack } = await import('./stack/up')
      return await runStack({ configFile })
    }
    if (cmd === 'hub') {
      const { runHub } = await import('./main')
      return await runHub({ configFile })
    }
    if (cmd === 'proxy') {
      const { runProxy } = await import('./stack/proxy')
      return await runProxy({ configFile })
    }
    if (cmd === 'config' && sub === 'check') {
      const { config, file } = loadConfig({ file: configFile })
      const { redactConfig } = await import('./config/redact')
      process.stdout.write(
        `configuration OK (${file ?? 'defaults and environment'}), secrets hidden\n${JSON.stringify(redactConfig(config), null, 2)}\n`,
      )
      return
    }
    if (cmd === 'config' && sub === 'docs') {
      const { configDocs } = await import('./config/docs')
      return void process.stdout.write(configDocs())
    }
    if (cmd === 'user' && sub === 'add' && arg) {
      const name = checkUsername(arg)
      await withDeps(configFile, async (d) => {
        let password: string | undefined
        if (d.passwords) {
          password = values['password-stdin']
            ? await readStdin()
            : (await import('node:crypto')).randomBytes(12).toString('base64url')
          d.passwords.checkPasswordRules(password, name)
        }
        const passwordHash = password && d.passwords ? await d.passwords.hash(password) : undefined
        const existing = await d.users.get(name)
        // made at the hub's start from auth.admins / auth.allowed, still without a password: this sets it
        if (existing && passwordHash && (await d.users.setFirstPasswordHash(name, passwordHash))) {
          if (values.admin && !existing.admin) await d.users.setAdmin(name, true)
          process.stdout.write(
            `set the password of ${name}${existing.admin || values.admin ? ' (admin)' : ''}, who had none\n`,
          )
        } else {
          await d.users.create(name, { admin: !!values.admin, passwordHash })
          process.stdout.write(`created user ${name}${values.admin ? ' (admin)' : ''}\n`)
        }
        if (password && !values['password-stdin']) process.stdout.write(`password: ${password}\n`)
      })
      return
    }
    if (cmd === 'user' && sub === 'list') {
      await withDeps(configFile, async (d) => {
        for (const n of await d.users.names()) {
          const u = await d.users.get(n)
          const s = await d.servers.get(n, '')
          process.stdout.write(
            `${n}\t${u?.admin ? 'admin' : 'user'}\t${u?.approved === false ? 'awaiting approval' : (s?.state ?? 'stopped')}\n`,
          )
        }
      })
      return
    }
    if (cmd === 'user' && sub === 'unlock' && arg) {
      const name = checkUsername(arg)
      await withDeps(configFile, async (d) => {
        const throttle = new LoginThrottle(d.redis, d.keys, d.config.auth.throttle)
        const { failures, locked } = await throttle.state(name)
        await throttle.unlock(name)
        process.stdout.write(
          `${name}: ${locked ? 'unlocked' : 'was not locked'}; ${failures} failed login${failures === 1 ? '' : 's'} forgotten\n`,
        )
      })
      return
    }
    if (cmd === 'token' && sub === 'issue' && arg) {
      const expires = values['expires-in'] ? Number(values['expires-in']) : undefined
      const lifetime = tokenLifetime(expires, 0)
      if (lifetime.problem) fail(`--expires-in: ${lifetime.problem}`, 2)
      const scopes = values.scopes
        ? String(values.scopes)
            .split(/[\s,]+/)
            .filter(Boolean)
        : undefined
      const bad = scopes?.map(scopeProblem).find((p) => p)
      if (bad) fail(`--scopes: ${bad}`, 2)
      await withDeps(configFile, async (d) => {
        const name = checkUsername(arg)
        await d.users.require(name)
        const { token } = await d.tokens.issue(name, {
          note: values.note ?? 'issued with edgehub token issue',
          expiresInSec: expires,
          scopes,
        })
        process.stdout.write(`${token}\n`)
      })
      return
    }
    if (cmd === 'backup' && sub) {
      const { backupCommand } = await import('./ops/commands')
      return await backupCommand(configFile, sub)
    }
    if (cmd === 'restore' && sub) {
      const { restoreCommand } = await import('./ops/commands')
      return await restoreCommand(configFile, sub, !!values.force)
    }
    if (cmd === 'import-jupyterhub' && sub) {
      const { importJupyterHubCommand } = await import('./ops/commands')
      return await importJupyterHubCommand(configFile, sub, values['roles-file'])
    }
    if (cmd === 'oidc' && sub === 'rotate-keys') {
      await withDeps(configFile, async (d) => {
        if (!d.config.oidc.enabled) fail('oidc.enabled is off: this hub is no OpenID Connect provider', 2)
        const { rotateOidcKeys } = await import('./oidc/rotate')
        const kid = await rotateOidcKeys(d, { force: !!values.force })
        // every replica signs with the new key within oidc/current.ts's KEY_CHECK_MS (2 s)
        process.stdout.write(kid ? `rotated: key ${kid} signs new ID tokens\n` : 'no rotation due\n')
      })
      return
    }
    fail(`unknown command: ${positionals.join(' ') || '(none)'}\n\n${USAGE}`, 2)
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message.replace(/^edgehub: /, ''), 2)
    if (err instanceof HubError && err.expose) fail(err.message)
    throw err
  }
}
