// spawner.sudo: its settings, validated at the hub's start and described in docs/config.md.
import { z } from 'zod'
import { ACCOUNT_PREFIX } from '../local-process/accounts'
import { DEFAULT_PORT_RANGE } from '../local-process/ports'

const port = z.number().int().min(1).max(65535)

export const DEFAULT_MEDIATOR = '/usr/local/bin/edgehub-sudo-mediator'

export const sudoSettings = z
  .strictObject({
    mediator: z
      .array(z.string().min(1))
      .min(1)
      .refine((m) => m[0].startsWith('/'), 'expected the mediator program as an absolute path, then its arguments')
      .default([DEFAULT_MEDIATOR])
      .describe(
        'The mediator run as each user through `sudo -u ACCOUNT -n MEDIATOR…` (spawners/src/sudo/edgehub-sudo-mediator, installed root-owned), with its arguments (`--config PATH` for a configuration other than /etc/edgehub/sudo-mediator.json); the sudoers rule names the same words (docs/spawners/sudo.md). It starts only commands its own root-owned configuration allows.',
      ),
    command: z
      .array(z.string().min(1))
      .min(1)
      .default(['/usr/local/bin/jupyterhub-singleuser'])
      .describe(
        "Command that starts a single-user server, as an absolute path: the mediator's configuration must allow it (its `servers[].argv` starts with exactly these words) and every argument after it.",
      ),
    args: z
      .array(z.string())
      .optional()
      .describe(
        "Arguments after the command. Placeholders: {ip} {port} {base_url} {notebook_dir} (the home) {user} {server} {default_url}. Default: none for jupyterhub-singleuser (it reads JUPYTERHUB_* from its environment), the flags `jupyter notebook` and `jupyter server` need otherwise; each must match a pattern of the mediator's `servers[].args`.",
      ),
    userPrefix: z
      .string()
      .regex(ACCOUNT_PREFIX, 'expected up to 15 characters a-z 0-9 _ -, starting with a letter or _, or ""')
      .default('')
      .describe(
        'The Unix account of hub user NAME is userPrefix + NAME (escaped as for spawner.local-process.userPrefix). Accounts are made by the administrator (an unprivileged hub cannot): a spawn without one fails saying so. Root and system accounts are refused by the hub, and root by the mediator.',
      ),
    env: z
      .record(z.string(), z.string())
      .default({})
      .describe(
        "Extra environment variables for every server; the mediator passes on only names its configuration's `env` allows (default JUPYTERHUB_*, JUPYTER_TOKEN, JPY_API_TOKEN, EDGEHUB_HUB_ID, LANG, LC_*) and never LD_*, PYTHON* and the like.",
      ),
    ip: z.string().default('127.0.0.1').describe('Address each server binds to (and the proxy connects to).'),
    portRange: z
      .tuple([port, port])
      .refine(([lo, hi]) => lo <= hi, 'expected [lowest, highest]')
      .default([...DEFAULT_PORT_RANGE])
      .describe("Ports servers listen on, [lowest, highest], below the kernel's ephemeral range."),
    mediatorTimeoutSeconds: z
      .number()
      .min(1)
      .max(120)
      .default(20)
      .describe(
        'How long one call of the mediator through sudo may take before it is killed and the operation fails (1-120).',
      ),
  })
  .describe(
    "The sudo spawner (JupyterHub's SudoSpawner): an unprivileged hub starts each server as the user's own Unix account through sudo and a mediator.",
  )
  .prefault({})

export type SudoSettings = z.output<typeof sudoSettings>
