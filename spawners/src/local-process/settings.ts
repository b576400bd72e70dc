// spawner.local-process: its settings, validated at the hub's start and described in docs/config.md.
import { z } from 'zod'
import { DEFAULT_PORT_RANGE } from './ports'
import { ACCOUNT_PREFIX, DEFAULT_USER_PREFIX } from './accounts'
import { profilesSchema } from '../profiles'

const port = z.number().int().min(1).max(65535)

/** What a profile may change of a local server: what runs, with which flags and variables. */
const profileOverrides = z.object({
  command: z.array(z.string().min(1)).min(1),
  args: z.array(z.string()),
  env: z.record(z.string(), z.string()),
})

export const localProcessSettings = z
  .strictObject({
    command: z
      .array(z.string().min(1))
      .min(1)
      .default(['jupyter', 'notebook'])
      .describe(
        'Command that starts a single-user server; `jupyter notebook`, `jupyter server` or `jupyterhub-singleuser`.',
      ),
    args: z
      .array(z.string())
      .optional()
      .describe(
        "Arguments after the command (JupyterHub's Spawner.args). Placeholders: {ip} {port} {base_url} {notebook_dir} {user} {server} {data_dir} {default_url}. Every server also gets JupyterHub's environment (JUPYTERHUB_SERVICE_URL with its address, JUPYTERHUB_SERVICE_PREFIX, JUPYTERHUB_API_URL, …), which jupyterhub-singleuser reads. Default: none for jupyterhub-singleuser (or a wrapper named for it, such as start-singleuser.sh), as JupyterHub starts it, so a wrapper's working directory stays the server's root; for `jupyter notebook` and `jupyter server`, the flags they need (address, port, notebookDir, base URL, spawner.defaultUrl). `[]`: no flags at all.",
      ),
    notebookDir: z
      .string()
      .optional()
      .describe(
        "Working directory of each server, created if missing (owned by the user's account, mode 0700, when servers run as per-user accounts). Also the server's root: `jupyter notebook` and `jupyter server` get it as --notebook-dir in their default args; jupyterhub-singleuser serves its working directory, and gets JUPYTERHUB_ROOT_DIR (JupyterHub's notebook_dir) only when this is set, so that a wrapper may change directory first. Placeholders: {data_dir} {user}. Default: the home directory of the user's Unix account when the hub runs as root, else `{data_dir}/home/{user}`.",
      ),
    createUsers: z
      .boolean()
      .default(true)
      .describe(
        "Only when the hub runs as root, where each server runs as its user's own Unix account (userPrefix + name): make a missing account at the user's first spawn (useradd: own group, no password, bash, home 0700), as The Littlest JupyterHub does. false: accounts are made by the administrator, and a spawn without one fails saying so (JupyterHub's LocalProcessSpawner). An unprivileged hub runs every server as itself, and ignores this.",
      ),
    userPrefix: z
      .string()
      .regex(ACCOUNT_PREFIX, 'expected up to 15 characters a-z 0-9 _ -, starting with a letter or _, or ""')
      .default(DEFAULT_USER_PREFIX)
      .describe(
        "Hub as root: the Unix account of hub user NAME is userPrefix + NAME, with characters other than a-z and 0-9 written as _XX (hex), and names past 32 characters shortened with a hash. The default (The Littlest JupyterHub's) keeps hub users apart from the machine's own accounts; '' uses accounts named as the hub users (JupyterHub's LocalProcessSpawner). Root and system accounts (uid outside UID_MIN-UID_MAX of /etc/login.defs) are always refused.",
      ),
    env: z.record(z.string(), z.string()).default({}).describe('Extra environment variables for every server.'),
    ip: z.string().default('127.0.0.1').describe('Address each server binds to (and the proxy connects to).'),
    portRange: z
      .tuple([port, port])
      .refine(([lo, hi]) => lo <= hi, 'expected [lowest, highest]')
      .default([...DEFAULT_PORT_RANGE])
      .describe(
        "Ports servers listen on, [lowest, highest]. Keep it below the kernel's ephemeral range (net.ipv4.ip_local_port_range, from 32768 by default): a port in that range can be taken by an outgoing connection between the hub choosing it and the server binding it.",
      ),
    profiles: profilesSchema(profileOverrides).describe(
      "Choices on the spawn page (KubeSpawner's profile_list): each `{slug, displayName, description, default, groups, overrides, options}`, where overrides may set `command`, `args` and `env` (merged over `env`), and `options` are further named choices, each with overrides of its own. The user's choice arrives as user_options `{profile, profile-option-NAME}`; a profile or choice not offered to the user is refused (400 naming the field). []: no form, and user_options are recorded but change nothing.",
    ),
  })
  .describe('The local-process spawner: each server is a process on this machine.')
  .prefault({})

export type LocalProcessSettings = z.output<typeof localProcessSettings>
