// spawner.docker: its settings, validated at the hub's start and described in docs/config.md.
import { z } from 'zod'
import { profilesSchema } from '../profiles'
import { nameTemplateProblem } from '../object-names'
import { DEFAULT_PORT_RANGE } from '../local-process/ports'

const port = z.number().int().min(1).max(65535)

/** Docker's smallest memory limit, and a largest one that is surely a typo beyond. */
export const MEM_MIN = 6 * 2 ** 20
export const MEM_MAX = 4 * 2 ** 40
const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 }

/** `512M`, `2G`, `1.5G`, `1073741824`: bytes (binary units, as Docker's --memory). */
export function parseBytes(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)(?:i?B)?$/i.exec(text.trim())
  if (!m) return undefined
  return Math.round(Number(m[1]) * (UNITS[m[2]!.toUpperCase()] ?? 1))
}

const memLimit = z
  .string()
  .refine((s) => parseBytes(s) !== undefined, 'expected a size such as 512M or 2G')
  .refine((s) => {
    const b = parseBytes(s)
    return b === undefined || (b >= MEM_MIN && b <= MEM_MAX)
  }, 'expected between 6M (Docker’s least) and 4T')
  .describe("Memory limit of each container (Docker's --memory): 512M, 2G; the server is killed past it. Unset: none.")

const cpuLimit = z
  .number()
  .min(0.01)
  .max(1024)
  .describe("CPUs each container may use (Docker's --cpus), 0.01-1024. Unset: no limit.")

const volume = z.strictObject({
  source: z
    .string()
    .min(1)
    .max(4096)
    .regex(/^(\/.*|[a-zA-Z0-9][a-zA-Z0-9_.-]*)$/, 'expected an absolute host path or a volume name')
    .describe('A Docker volume name, or an absolute path on the Docker host (a bind mount).'),
  target: z
    .string()
    .regex(/^\/.*/, 'expected an absolute path in the container')
    .max(4096)
    .describe('Where it appears in the container.'),
  readOnly: z
    .boolean()
    .default(true)
    .describe('Mounted read-only (the default): shared data users cannot change or use to reach each other.'),
})

const env = z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a variable name'), z.string())

const image = z.string().min(1).max(500)
const cmd = z
  .array(z.string().min(1))
  .min(1)
  .max(1000)
  .describe(
    "The container's command, replacing the image's CMD. Placeholders: {ip} {port} {base_url} {user} {server}. Unset: the image's own command (the Jupyter docker-stacks images start jupyterhub-singleuser when the hub's variables are set).",
  )

/** What a profile may change of a container. */
const profileOverrides = z.object({
  image,
  cmd,
  cpuLimit,
  memLimit,
  env,
  volumes: z.array(volume).max(100),
})

const template = (what: string, def: string) =>
  z
    .string()
    .max(200)
    .default(def)
    .describe(
      `Name of each user's ${what}: {username} and {servername} (empty for the default server, with the - before it) escaped as JupyterHub does (a-z 0-9 kept, other bytes as -XX), so names differing only in case or punctuation stay apart; past 63 characters cut and ended with a hash.`,
    )

export const dockerSettings = z
  .strictObject({
    host: z
      .string()
      .min(1)
      .max(1000)
      .optional()
      .describe(
        'The Docker engine: unix:///path/docker.sock, a socket path, or tcp://HOST:PORT (plain HTTP: only on a trusted network). Unset: DOCKER_HOST (with DOCKER_CERT_PATH and DOCKER_TLS_VERIFY for TLS), else /var/run/docker.sock.',
      ),
    apiTimeoutSec: z
      .number()
      .int()
      .min(10)
      .max(600)
      .default(60)
      .describe(
        "Longest the engine may stay silent on one request, 10-600 (an image pull is bounded by spawner.startTimeoutSec as a whole; a stop's grace is cut to 5 s less than this).",
      ),
    image: image
      .default('quay.io/jupyter/base-notebook:latest')
      .describe(
        "Image of users' servers. It must run jupyterhub-singleuser (the Jupyter docker-stacks images do, as user jovyan).",
      ),
    cmd: cmd.optional(),
    pullPolicy: z
      .enum(['ifNotPresent', 'always', 'never'])
      .default('ifNotPresent')
      .describe(
        "When to pull the image: ifNotPresent (when the engine does not have it), always (at every start: a tag's newest image), never (the image must be there: a start fails saying so). The pull's progress is shown on the spawn page.",
      ),
    nameTemplate: template('container', 'jupyter-{username}-{servername}'),
    volumeNameTemplate: template('home volume (kept when the container is removed)', 'jupyterhub-user-{username}'),
    notebookDir: z
      .string()
      .regex(/^\/.*/, 'expected an absolute path in the container')
      .max(4096)
      .default('/home/jovyan')
      .describe(
        "Where the user's home volume is mounted, and the container's working directory (what jupyterhub-singleuser serves).",
      ),
    volumes: z
      .array(volume)
      .max(100)
      .default([])
      .describe(
        'Extra volumes for every container, each {source, target, readOnly (default true)}: shared data sets, software.',
      ),
    labels: z
      .record(z.string().min(1).max(200), z.string().max(1000))
      .default({})
      .describe('Extra labels on every container (the hub adds its own, org.jupyter.edgehub.*).'),
    cpuLimit: cpuLimit.optional(),
    memLimit: memLimit.optional(),
    env: env.default({}).describe("Extra environment variables for every container (JupyterHub's own win)."),
    user: z
      .string()
      .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?$/, 'expected NAME, UID or UID:GID')
      .max(100)
      .optional()
      .describe(
        "User the server runs as in the container (NAME, UID or UID:GID). Unset: the image's USER (jovyan, 1000:100, in the docker-stacks images).",
      ),
    allowRoot: z
      .boolean()
      .default(false)
      .describe(
        "Let containers run as root (uid 0) when the image or `user` says so. false: such a start fails saying so. Root in a container is still confined (no privileges, no added capabilities, no-new-privileges), but its escape routes are the kernel's; the docker-stacks images' root features (NB_UID, sudo) need it.",
      ),
    network: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'expected a Docker network name')
      .default('edgehub-users')
      .describe(
        "Docker network of the containers. A network name (made beforehand: `docker network create edgehub-users`): the hub and proxy reach each server at its address there, port `port`. `host`: containers share the host's network (they can reach everything on its loopback, Redis included): each server listens on `ip` at a port from `portRange`. See docs/spawners/docker.md.",
      ),
    port: port.default(8888).describe('Port the server listens on in its container (named networks).'),
    ip: z
      .string()
      .min(1)
      .default('127.0.0.1')
      .describe('Host networking: the address servers bind to and the proxy connects to.'),
    portRange: z
      .tuple([port, port])
      .refine(([lo, hi]) => lo <= hi, 'expected [lowest, highest]')
      .default([...DEFAULT_PORT_RANGE])
      .describe(
        "Host networking: ports servers listen on, [lowest, highest], below the kernel's ephemeral range (from 32768).",
      ),
    remove: z
      .boolean()
      .default(true)
      .describe(
        "Remove each container when its server stops (its home volume stays). false: keep the stopped container (its logs, its changes outside the home volume) until the server's next start replaces it: a container's environment, which carries the server's token, cannot change, and the hub issues a new token at each start.",
      ),
    profiles: profilesSchema(profileOverrides).describe(
      "Choices on the spawn page (KubeSpawner's profile_list): each `{slug, displayName, description, default, groups, overrides, options}`, where overrides may set `image`, `cmd`, `cpuLimit`, `memLimit`, `env` (merged over `env`) and `volumes` (added to `volumes`). A user can only pick a profile or choice offered to them (400 naming the field): the images, limits and volumes come from here, never from user_options.",
    ),
  })
  .superRefine((s, ctx) => {
    for (const key of ['nameTemplate', 'volumeNameTemplate'] as const) {
      const problem = nameTemplateProblem(s[key])
      if (problem) ctx.addIssue({ code: 'custom', path: [key], message: problem })
    }
  })
  .describe("The docker spawner: each server is a container on a Docker engine, with the user's home in a volume.")
  .prefault({})

export type DockerSettings = z.output<typeof dockerSettings>
export type DockerOverrides = Partial<z.output<typeof profileOverrides>>
export type DockerVolume = z.output<typeof volume>
