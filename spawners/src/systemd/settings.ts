// spawner.systemd: its settings, validated at the hub's start and described in docs/config.md.
import { z } from 'zod'
import { ACCOUNT_PREFIX, DEFAULT_USER_PREFIX } from '../local-process/accounts'
import { DEFAULT_PORT_RANGE } from '../local-process/ports'

const port = z.number().int().min(1).max(65535)
const absolutePath = z.string().regex(/^\/[^\s]*$/, 'expected an absolute path without spaces')

export const systemdSettings = z
  .strictObject({
    command: z
      .array(z.string().min(1))
      .min(1)
      .default(['/usr/local/bin/jupyterhub-singleuser'])
      .describe('Command that starts a single-user server in its unit (ExecStart=); the first word an absolute path.'),
    args: z
      .array(z.string())
      .optional()
      .describe(
        'Arguments after the command. Placeholders: {ip} {port} {base_url} {notebook_dir} (the home) {user} {server} {default_url}. Default: none for jupyterhub-singleuser, the flags `jupyter notebook` and `jupyter server` need otherwise.',
      ),
    unitPrefix: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,31}$/, 'expected up to 32 characters a-z 0-9 -, starting with a letter')
      .default('jupyter-')
      .describe(
        'Each server is the transient unit PREFIX + user (+ `-` + server name) + `.service`, the names escaped to a-z 0-9 _ (as TLJH names them jupyter-NAME).',
      ),
    userPrefix: z
      .string()
      .regex(ACCOUNT_PREFIX, 'expected up to 15 characters a-z 0-9 _ -, starting with a letter or _, or ""')
      .default(DEFAULT_USER_PREFIX)
      .describe(
        'The Unix account (User=) of hub user NAME is userPrefix + NAME, as for spawner.local-process.userPrefix; not used with dynamicUsers.',
      ),
    createUsers: z
      .boolean()
      .default(true)
      .describe(
        'Make a missing account at the first spawn (useradd, home 0700), as The Littlest JupyterHub does. false: a spawn without one fails saying so.',
      ),
    dynamicUsers: z
      .boolean()
      .default(false)
      .describe(
        'DynamicUser=yes: each server runs as a uid systemd allocates for the unit, with a StateDirectory= named as the unit (/var/lib/jupyter-NAME) as its working directory and persistent files, and no Unix account at all (userPrefix and createUsers are then unused).',
      ),
    memoryMax: z
      .number()
      .int()
      .min(16 * 1024 * 1024)
      .max(2 ** 50)
      .optional()
      .describe("MemoryMax= of each server's unit, in bytes (16 MiB to 1 PiB); unset: no limit."),
    cpuQuotaPercent: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .optional()
      .describe('CPUQuota= of each unit in percent of one CPU (200: two CPUs; 1-100000); unset: no limit.'),
    protectSystem: z
      .enum(['strict', 'full', 'no'])
      .default('strict')
      .describe(
        'ProtectSystem=: strict makes the whole file system read-only but the home (and readWritePaths); full only /usr, /boot, /etc.',
      ),
    protectHome: z
      .enum(['read-only', 'tmpfs', 'no'])
      .default('read-only')
      .describe(
        "ProtectHome=: read-only keeps other homes read-only (their own permissions still apply) and the user's home writable (ReadWritePaths=); tmpfs hides every other home and binds the user's home in (BindPaths=).",
      ),
    privateTmp: z.boolean().default(true).describe("PrivateTmp=: a /tmp and /var/tmp of the unit's own."),
    noNewPrivileges: z
      .boolean()
      .default(true)
      .describe('NoNewPrivileges=: setuid programs (sudo, su) cannot raise privileges.'),
    readOnlyPaths: z.array(absolutePath).max(64).default([]).describe('ReadOnlyPaths= of each unit.'),
    readWritePaths: z
      .array(absolutePath)
      .max(64)
      .default([])
      .describe('ReadWritePaths= of each unit, besides the home.'),
    env: z.record(z.string(), z.string()).default({}).describe('Extra environment variables for every server.'),
    ip: z.string().default('127.0.0.1').describe('Address each server binds to (and the proxy connects to).'),
    portRange: z
      .tuple([port, port])
      .refine(([lo, hi]) => lo <= hi, 'expected [lowest, highest]')
      .default([...DEFAULT_PORT_RANGE])
      .describe("Ports servers listen on, [lowest, highest], below the kernel's ephemeral range."),
    journalLines: z
      .number()
      .int()
      .min(0)
      .max(200)
      .default(20)
      .describe(
        "How many of the unit's journal lines (journalctl -u UNIT -o cat) are shown on the spawn-pending page (0-200).",
      ),
    journalFollowSeconds: z
      .number()
      .int()
      .min(0)
      .max(300)
      .default(30)
      .describe("How long after a start the unit's new journal lines keep being shown there (0-300 s)."),
    commandTimeoutSeconds: z
      .number()
      .min(1)
      .max(120)
      .default(30)
      .describe(
        'How long one systemd-run or systemctl call may take before it is killed and the operation fails (1-120).',
      ),
  })
  .describe(
    'The systemd spawner (SystemdSpawner): each server is a transient systemd unit, started with systemd-run by a hub running as root.',
  )
  .prefault({})

export type SystemdSettings = z.output<typeof systemdSettings>
