// A FAKE Kubernetes API server for tests (no real one can run on these machines): loopback HTTP
// serving what the kubernetes spawner uses, as a real API server answers it:
// - pods, services, persistentvolumeclaims and events in namespaces: list (label and field
//   selectors, resourceVersion), get, create, delete (grace period, uid precondition);
// - watch streams: from a resourceVersion, bookmarks, timeoutSeconds, and on demand a watch that
//   stops sending without closing (stallWatches) and 410 Gone for a compacted resourceVersion (compact);
// - request bodies checked against the Kubernetes object schemas (@kubernetes/client-node's models):
//   an unknown field or a wrong type is 422 Invalid, naming the field;
// - a fake scheduler (nodes with labels: a pod whose nodeSelector no node matches never schedules,
//   with a FailedScheduling event and condition) and a fake kubelet: a scheduled pod's first
//   container command runs as a local process (the image is ignored; an image named missing/… never
//   pulls) with the container's env (fieldRef status.podIP, $(VAR) expansion as Kubernetes does), as
//   the pod's runAsUser/runAsGroup when the test runs as root; the pod IP is a loopback address of its
//   own (127.x.y.z). Processes are stopped by their PID (process group) at deletion and at close().
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo, Socket } from 'node:net'
import { objectProblems } from '../../spawners/src/kubernetes/object-schema'

type Obj = Record<string, any>

const KINDS: Record<string, { kind: string; model: string }> = {
  pods: { kind: 'Pod', model: 'V1Pod' },
  services: { kind: 'Service', model: 'V1Service' },
  persistentvolumeclaims: { kind: 'PersistentVolumeClaim', model: 'V1PersistentVolumeClaim' },
  events: { kind: 'Event', model: 'CoreV1Event' },
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/
const HISTORY_MAX = 20_000

export interface FakeNode {
  name: string
  labels: Record<string, string>
}

export interface FakeKubeApiOptions {
  /** The cluster's nodes (default: three nodes labelled kubernetes.io/hostname). */
  nodes?: FakeNode[]
  /** Milliseconds between bookmarks on watches that ask for them (default 1000; 0: none). */
  bookmarkMs?: number
  /** false: pods are scheduled and marked running, with no process (for measuring the informer). */
  kubelet?: boolean
  /** Kinds the client may not touch (403 Forbidden, as RBAC answers): `['events']`. */
  forbidden?: string[]
}

interface Watcher {
  kind: string
  namespace: string
  labels: string
  fields: string
  res: ServerResponse
  stalled: boolean
  timers: NodeJS.Timeout[]
}

interface HistoryEntry {
  rv: number
  kind: string
  type: 'ADDED' | 'MODIFIED' | 'DELETED'
  object: Obj
}

export interface FakeKubeApi {
  /** http://127.0.0.1:PORT */
  url: string
  /** A kubeconfig file naming this server (and its token). */
  kubeconfig: string
  token: string
  nodes: FakeNode[]
  /** Objects of a kind (pods, services, persistentvolumeclaims, events) in a namespace, as stored. */
  objects(kind: string, namespace: string): Obj[]
  /** Makes an object as a client would (validated, scheduled), bypassing HTTP: many pods for a benchmark. */
  create(kind: string, namespace: string, body: Obj): Obj
  /** Counts of requests by `METHOD kind` and of watches opened. */
  requests: Map<string, number>
  /** Open watches stop sending anything (no events, no bookmarks) and stay open; returns how many. */
  stallWatches(): number
  /**
   * Forgets history up to now, as etcd's compaction does: a watch from an older resourceVersion gets
   * ERROR 410 Gone; with endWatches (default), so do the open watches, which end. Returns how many ended.
   */
  compact(opts?: { endWatches?: boolean }): number
  /** How many watches are open now. */
  openWatches(): number
  /** Live fake-kubelet processes, by pod name. */
  processes(): Map<string, number>
  close(): Promise<void>
}

/** A label selector (k=v, k==v, k!=v, k, !k, k in (a,b), k notin (a,b)) as a test of labels. */
function labelMatcher(selector: string): (labels: Record<string, string>) => boolean {
  const terms =
    selector
      .match(/[^,(]+(\([^)]*\))?/g)
      ?.map((t) => t.trim())
      .filter(Boolean) ?? []
  const tests = terms.map((t) => {
    let m = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(t)
    if (m) {
      const [, k, op, list] = m
      const values = list.split(',').map((v) => v.trim())
      return (l: Record<string, string>) => (op === 'in' ? values.includes(l[k]) : !values.includes(l[k]))
    }
    m = /^([^!=]+)(==|=|!=)(.*)$/.exec(t)
    if (m) {
      const [, k, op, v] = m
      return (l: Record<string, string>) => (op === '!=' ? l[k] !== v : l[k] === v)
    }
    if (t.startsWith('!')) return (l: Record<string, string>) => !(t.slice(1) in l)
    return (l: Record<string, string>) => t in l
  })
  return (labels) => tests.every((f) => f(labels ?? {}))
}

/** A field selector (a.b=c, a.b!=c, comma-separated) as a test of objects. */
function fieldMatcher(selector: string): (o: Obj) => boolean {
  const tests = selector
    .split(',')
    .filter(Boolean)
    .map((t) => {
      const m = /^([^!=]+)(==|=|!=)(.*)$/.exec(t)
      if (!m) throw new Error(`bad field selector ${t}`)
      const [, path, op, v] = m
      const get = (o: Obj) => String(path.split('.').reduce((x: any, k) => x?.[k], o) ?? '')
      return (o: Obj) => (op === '!=' ? get(o) !== v : get(o) === v)
    })
  return (o) => tests.every((f) => f(o))
}

/** Kubernetes' $(VAR) expansion of command and args: known variables replaced, $$ is $, others kept. */
function expand(s: string, env: Record<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name?: string) =>
    m === '$$' ? '$' : name !== undefined && name in env ? env[name] : m,
  )
}

class Invalid extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message)
  }
}

export async function startFakeKubeApi(opts: FakeKubeApiOptions = {}): Promise<FakeKubeApi> {
  const nodes =
    opts.nodes ??
    [1, 2, 3].map((i) => ({ name: `fake-node-${i}`, labels: { 'kubernetes.io/hostname': `fake-node-${i}` } }))
  const bookmarkMs = opts.bookmarkMs ?? 1000
  const kubelet = opts.kubelet ?? true
  const token = randomBytes(16).toString('hex')
  const store = new Map<string, Map<string, Obj>>() // kind -> ns/name -> object
  for (const k of Object.keys(KINDS)) store.set(k, new Map())
  const history: HistoryEntry[] = []
  let rv = 1
  let compactedRv = 0
  const watchers = new Set<Watcher>()
  const sockets = new Set<Socket>()
  const procs = new Map<string, { child: ChildProcess; uid: string }>() // ns/name -> process
  const podIPs = new Set<string>()
  const requests = new Map<string, number>()
  const logs = new Map<string, string[]>() // pod uid -> last lines
  const dir = mkdtempSync(join(tmpdir(), 'fake-kube-api-'))
  const count = (k: string) => requests.set(k, (requests.get(k) ?? 0) + 1)
  const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z')

  function record(kind: string, type: HistoryEntry['type'], object: Obj): void {
    const entry = { rv: Number(object.metadata.resourceVersion), kind, type, object: structuredClone(object) }
    history.push(entry)
    if (history.length > HISTORY_MAX) compactedRv = history.splice(0, history.length - HISTORY_MAX).at(-1)!.rv
    for (const w of watchers) send(w, entry)
  }

  function matches(w: { kind: string; namespace: string; labels: string; fields: string }, kind: string, o: Obj) {
    return (
      w.kind === kind &&
      (!w.namespace || o.metadata.namespace === w.namespace) &&
      labelMatcher(w.labels)(o.metadata.labels) &&
      fieldMatcher(w.fields)(o)
    )
  }

  function send(w: Watcher, e: HistoryEntry): void {
    if (w.stalled || !matches(w, e.kind, e.object)) return
    w.res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`)
  }

  function put(kind: string, o: Obj, type: 'ADDED' | 'MODIFIED'): Obj {
    o.metadata.resourceVersion = String(++rv)
    store.get(kind)!.set(`${o.metadata.namespace}/${o.metadata.name}`, o)
    record(kind, type, o)
    return o
  }

  function remove(kind: string, o: Obj): void {
    const key = `${o.metadata.namespace}/${o.metadata.name}`
    if (store.get(kind)!.get(key) !== o) return
    store.get(kind)!.delete(key)
    o.metadata.resourceVersion = String(++rv)
    record(kind, 'DELETED', o)
    if (kind === 'pods') podIPs.delete(o.status?.podIP)
  }

  function podEvent(pod: Obj, reason: string, message: string, type = 'Normal'): void {
    const ns = pod.metadata.namespace
    put(
      'events',
      {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${pod.metadata.name}.${randomBytes(8).toString('hex')}`, namespace: ns, uid: randomUUID() },
        involvedObject: {
          apiVersion: 'v1',
          kind: 'Pod',
          name: pod.metadata.name,
          namespace: ns,
          uid: pod.metadata.uid,
        },
        reason,
        message,
        type,
        source: { component: reason.includes('Schedul') ? 'default-scheduler' : 'kubelet' },
        firstTimestamp: now(),
        lastTimestamp: now(),
        count: 1,
      },
      'ADDED',
    )
  }

  const live = (pod: Obj) => store.get('pods')!.get(`${pod.metadata.namespace}/${pod.metadata.name}`) === pod

  function podIP(): string {
    for (;;) {
      const b = randomBytes(3)
      const ip = `127.${64 + (b[0] % 128)}.${b[1]}.${1 + (b[2] % 254)}`
      if (!podIPs.has(ip)) {
        podIPs.add(ip)
        return ip
      }
    }
  }

  /** The fake scheduler and kubelet: what happens to a pod after it is made. */
  function schedule(pod: Obj): void {
    const selector: Record<string, string> = pod.spec.nodeSelector ?? {}
    const fits = nodes.filter((n) => Object.entries(selector).every(([k, v]) => n.labels[k] === v))
    if (!fits.length) {
      const message = `0/${nodes.length} nodes are available: ${nodes.length} node(s) didn't match Pod's node affinity/selector. preemption: 0/${nodes.length} nodes are available: ${nodes.length} Preemption is not helpful for scheduling.`
      pod.status.conditions = [
        { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastTransitionTime: now() },
      ]
      put('pods', pod, 'MODIFIED')
      podEvent(pod, 'FailedScheduling', message, 'Warning')
      return
    }
    const node = fits[Math.floor(Math.random() * fits.length)]
    pod.spec.nodeName = node.name
    pod.status.conditions = [{ type: 'PodScheduled', status: 'True', lastTransitionTime: now() }]
    put('pods', pod, 'MODIFIED')
    podEvent(pod, 'Scheduled', `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${node.name}`)
    const container = pod.spec.containers[0]
    podEvent(pod, 'Pulling', `Pulling image "${container.image}"`)
    setImmediate(() => {
      if (!live(pod) || pod.metadata.deletionTimestamp) return
      if (String(container.image).startsWith('missing/')) {
        const message = `Back-off pulling image "${container.image}"`
        pod.status.containerStatuses = [
          {
            name: container.name,
            image: container.image,
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { waiting: { reason: 'ImagePullBackOff', message } },
          },
        ]
        put('pods', pod, 'MODIFIED')
        podEvent(pod, 'Failed', `Failed to pull image "${container.image}": not found`, 'Warning')
        podEvent(pod, 'BackOff', message, 'Normal')
        return
      }
      podEvent(pod, 'Pulled', `Successfully pulled image "${container.image}" in 0s`)
      run(pod)
    })
  }

  function run(pod: Obj): void {
    const c = pod.spec.containers[0]
    const ip = podIP()
    pod.status.podIP = ip
    pod.status.podIPs = [{ ip }]
    pod.status.hostIP = '127.0.0.1'
    const env: Record<string, string> = {}
    const fieldValue = (path: string) =>
      ({
        'status.podIP': ip,
        'metadata.name': pod.metadata.name,
        'metadata.namespace': pod.metadata.namespace,
        'spec.nodeName': pod.spec.nodeName,
      })[path] ?? ''
    for (const e of c.env ?? []) {
      if (e.value !== undefined) env[e.name] = expand(e.value, env)
      else if (e.valueFrom?.fieldRef) env[e.name] = fieldValue(e.valueFrom.fieldRef.fieldPath)
    }
    const sc = { ...pod.spec.securityContext, ...c.securityContext }
    const asRoot = process.getuid?.() === 0
    const uid = asRoot ? (sc.runAsUser ?? 0) : undefined
    if (sc.runAsNonRoot && asRoot && uid === 0) {
      const message = 'container has runAsNonRoot and image will run as root'
      pod.status.containerStatuses = [
        {
          name: c.name,
          image: c.image,
          imageID: '',
          ready: false,
          restartCount: 0,
          state: { waiting: { reason: 'CreateContainerConfigError', message } },
        },
      ]
      put('pods', pod, 'MODIFIED')
      podEvent(pod, 'Failed', `Error: ${message}`, 'Warning')
      return
    }
    podEvent(pod, 'Created', `Created container ${c.name}`)
    if (!kubelet || !c.command?.length) {
      // no command: the image's own entrypoint, which the fake cannot run; the pod runs with no process
      markRunning(pod, c)
      return
    }
    const [cmd, ...args] = [...(c.command ?? []), ...(c.args ?? [])].map((s: string) => expand(s, env))
    const child = spawn(cmd, args, {
      cwd: tmpdir(),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOSTNAME: pod.metadata.name, ...env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(asRoot ? { uid, gid: sc.runAsGroup ?? 0 } : {}),
    })
    const lines: string[] = []
    logs.set(pod.metadata.uid, lines)
    const keep = (chunk: Buffer) => {
      lines.push(...chunk.toString().split('\n').filter(Boolean))
      if (lines.length > 200) lines.splice(0, lines.length - 200)
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`
    procs.set(key, { child, uid: pod.metadata.uid })
    child.on('error', (err) => keep(Buffer.from(String(err))))
    child.on('close', (code, sig) => {
      if (procs.get(key)?.child === child) procs.delete(key)
      if (!live(pod)) return
      if (pod.metadata.deletionTimestamp) return remove('pods', pod)
      const exitCode = code ?? (sig ? 128 + 9 : 1)
      pod.status.phase = exitCode === 0 ? 'Succeeded' : 'Failed'
      pod.status.containerStatuses = [
        {
          name: c.name,
          image: c.image,
          imageID: '',
          ready: false,
          restartCount: 0,
          state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', finishedAt: now() } },
        },
      ]
      put('pods', pod, 'MODIFIED')
    })
    child.on('spawn', () => {
      if (!live(pod) || pod.metadata.deletionTimestamp) return
      podEvent(pod, 'Started', `Started container ${c.name}`)
      markRunning(pod, c)
    })
  }

  function markRunning(pod: Obj, c: Obj): void {
    pod.status.phase = 'Running'
    pod.status.startTime = now()
    pod.status.conditions = [
      { type: 'PodScheduled', status: 'True' },
      { type: 'Initialized', status: 'True' },
      { type: 'ContainersReady', status: 'True' },
      { type: 'Ready', status: 'True' },
    ]
    pod.status.containerStatuses = [
      {
        name: c.name,
        image: c.image,
        imageID: '',
        ready: true,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: now() } },
      },
    ]
    put('pods', pod, 'MODIFIED')
  }

  function terminate(pod: Obj, graceSeconds: number): void {
    pod.metadata.deletionTimestamp = now()
    pod.metadata.deletionGracePeriodSeconds = graceSeconds
    put('pods', pod, 'MODIFIED')
    const p = procs.get(`${pod.metadata.namespace}/${pod.metadata.name}`)
    if (!p || p.uid !== pod.metadata.uid || p.child.exitCode !== null || p.child.signalCode !== null) {
      remove('pods', pod)
      return
    }
    const kill = (sig: NodeJS.Signals) => {
      try {
        process.kill(-p.child.pid!, sig)
      } catch {
        /* gone */
      }
    }
    if (graceSeconds === 0) {
      kill('SIGKILL')
      return
    }
    kill('SIGTERM')
    const t = setTimeout(() => kill('SIGKILL'), graceSeconds * 1000)
    p.child.once('exit', () => clearTimeout(t))
  }

  function validate(kind: string, namespace: string, body: Obj): void {
    const { kind: k, model } = KINDS[kind]
    const problems = objectProblems(body, model).map((p) => p.replace(/^\./, ''))
    const name = body?.metadata?.name
    if (typeof name !== 'string' || !DNS_SUBDOMAIN.test(name))
      problems.push(
        `metadata.name: Invalid value: ${JSON.stringify(name)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`,
      )
    for (const [lk, lv] of Object.entries(body?.metadata?.labels ?? {}))
      if (typeof lv !== 'string' || !LABEL_VALUE.test(lv))
        problems.push(`metadata.labels: Invalid value: ${JSON.stringify(lv)} (${lk})`)
    if (body?.metadata?.namespace && body.metadata.namespace !== namespace)
      problems.push('metadata.namespace: Invalid value: does not match the namespace of the request')
    if (kind === 'pods') {
      const containers = body?.spec?.containers
      if (!Array.isArray(containers) || !containers.length) problems.push('spec.containers: Required value')
      else
        containers.forEach((c: Obj, i: number) => {
          if (!c?.name) problems.push(`spec.containers[${i}].name: Required value`)
          if (!c?.image) problems.push(`spec.containers[${i}].image: Required value`)
        })
    }
    if (problems.length)
      throw new Invalid(422, 'Invalid', `${k} ${JSON.stringify(name ?? '')} is invalid: ${problems.join(', ')}`)
  }

  function create(kind: string, namespace: string, body: Obj): Obj {
    validate(kind, namespace, body)
    const key = `${namespace}/${body.metadata.name}`
    if (store.get(kind)!.has(key))
      throw new Invalid(409, 'AlreadyExists', `${kind} "${body.metadata.name}" already exists`)
    const o: Obj = structuredClone(body)
    o.apiVersion = 'v1'
    o.kind = KINDS[kind].kind
    o.metadata = { ...o.metadata, namespace, uid: randomUUID(), creationTimestamp: now() }
    if (kind === 'pods') o.status = { phase: 'Pending', qosClass: 'BestEffort' }
    if (kind === 'persistentvolumeclaims') o.status = { phase: 'Bound', accessModes: o.spec?.accessModes }
    put(kind, o, 'ADDED')
    if (kind === 'pods') setImmediate(() => live(o) && !o.metadata.deletionTimestamp && schedule(o))
    return o
  }

  function statusBody(code: number, reason: string, message: string): Obj {
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }
  }

  function reply(res: ServerResponse, code: number, body: Obj): void {
    res.writeHead(code, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body))
  }

  function openWatch(res: ServerResponse, kind: string, namespace: string, q: URLSearchParams) {
    count(`WATCH ${kind}`)
    const w: Watcher = {
      kind,
      namespace,
      labels: q.get('labelSelector') ?? '',
      fields: q.get('fieldSelector') ?? '',
      res,
      stalled: false,
      timers: [],
    }
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' })
    res.flushHeaders()
    const from = q.get('resourceVersion') ?? ''
    if (from && from !== '0' && Number(from) < compactedRv) {
      res.end(
        `${JSON.stringify({ type: 'ERROR', object: statusBody(410, 'Expired', `too old resource version: ${from} (${compactedRv})`) })}\n`,
      )
      return
    }
    if (!from || from === '0') {
      for (const o of store.get(kind)!.values())
        if (matches(w, kind, o)) res.write(`${JSON.stringify({ type: 'ADDED', object: o })}\n`)
    } else for (const e of history) if (e.rv > Number(from)) send(w, e)
    watchers.add(w)
    const end = () => {
      watchers.delete(w)
      for (const t of w.timers) clearTimeout(t)
      if (!res.writableEnded) res.end()
    }
    const timeout = Number(q.get('timeoutSeconds') ?? 0)
    if (timeout > 0) w.timers.push(setTimeout(end, timeout * 1000))
    if (q.get('allowWatchBookmarks') === 'true' && bookmarkMs > 0)
      w.timers.push(
        setInterval(() => {
          if (!w.stalled)
            res.write(
              `${JSON.stringify({ type: 'BOOKMARK', object: { kind: KINDS[kind].kind, apiVersion: 'v1', metadata: { resourceVersion: String(rv) } } })}\n`,
            )
        }, bookmarkMs),
      )
    res.on('close', end)
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake')
    if (req.headers.authorization !== `Bearer ${token}`)
      return reply(res, 401, statusBody(401, 'Unauthorized', 'Unauthorized'))
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/([a-z]+)(?:\/([^/]+))?(?:\/(log))?$/.exec(url.pathname)
    if (!m || !KINDS[m[2]])
      return reply(
        res,
        404,
        statusBody(404, 'NotFound', `the server could not find the requested resource (${url.pathname})`),
      )
    const [, namespace, kind, name, sub] = m
    if (opts.forbidden?.includes(kind))
      return reply(
        res,
        403,
        statusBody(
          403,
          'Forbidden',
          `${kind} is forbidden: User "fake" cannot access resource "${kind}" in namespace "${namespace}"`,
        ),
      )
    const q = url.searchParams
    let raw = ''
    for await (const chunk of req) raw += chunk
    let body: Obj | undefined
    if (raw) {
      try {
        body = JSON.parse(raw)
      } catch {
        return reply(res, 400, statusBody(400, 'BadRequest', 'the request body is not JSON'))
      }
    }
    const objects = store.get(kind)!
    const notFound = () => reply(res, 404, statusBody(404, 'NotFound', `${kind} "${name}" not found`))
    try {
      if (req.method === 'GET' && !name) {
        if (q.get('watch') === 'true') return openWatch(res, kind, namespace, q)
        count(`LIST ${kind}`)
        const w = { kind, namespace, labels: q.get('labelSelector') ?? '', fields: q.get('fieldSelector') ?? '' }
        let items = [...objects.values()].filter((o) => matches(w, kind, o))
        const limit = Number(q.get('limit') ?? 0)
        if (limit > 0) items = items.slice(0, limit)
        return reply(res, 200, {
          kind: `${KINDS[kind].kind}List`,
          apiVersion: 'v1',
          metadata: { resourceVersion: String(rv) },
          items,
        })
      }
      const o = name ? objects.get(`${namespace}/${name}`) : undefined
      if (req.method === 'GET' && sub === 'log') {
        count(`LOG ${kind}`)
        if (!o) return notFound()
        const lines = logs.get(o.metadata.uid) ?? []
        const tail = Number(q.get('tailLines') ?? 0)
        res.writeHead(200, { 'content-type': 'text/plain' })
        return void res.end(`${(tail > 0 ? lines.slice(-tail) : lines).join('\n')}\n`)
      }
      if (req.method === 'GET') {
        count(`GET ${kind}`)
        return o ? reply(res, 200, o) : notFound()
      }
      if (req.method === 'POST' && !name) {
        count(`CREATE ${kind}`)
        return reply(res, 201, create(kind, namespace, body ?? {}))
      }
      if (req.method === 'DELETE' && name) {
        count(`DELETE ${kind}`)
        const problems = body ? objectProblems(body, 'V1DeleteOptions') : []
        if (problems.length) throw new Invalid(422, 'Invalid', `DeleteOptions is invalid: ${problems.join(', ')}`)
        if (!o) return notFound()
        const wantUid = body?.preconditions?.uid
        if (wantUid && wantUid !== o.metadata.uid)
          throw new Invalid(
            409,
            'Conflict',
            `Precondition failed: UID in precondition: ${wantUid}, UID in object meta: ${o.metadata.uid}`,
          )
        if (kind === 'pods') {
          if (!o.metadata.deletionTimestamp)
            terminate(
              o,
              Number(
                body?.gracePeriodSeconds ?? q.get('gracePeriodSeconds') ?? o.spec.terminationGracePeriodSeconds ?? 30,
              ),
            )
        } else remove(kind, o)
        return reply(res, 200, o)
      }
      return reply(res, 405, statusBody(405, 'MethodNotAllowed', `${req.method} is not supported here`))
    } catch (err) {
      if (err instanceof Invalid) return reply(res, err.code, statusBody(err.code, err.reason, err.message))
      throw err
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) reply(res, 500, statusBody(500, 'InternalError', String(err)))
      else res.destroy()
    })
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const kubeconfig = join(dir, 'kubeconfig')
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'fake', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'fake', user: { token } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake' } }],
      'current-context': 'fake',
    }),
  )

  return {
    url,
    kubeconfig,
    token,
    nodes,
    requests,
    objects: (kind, namespace) => [...store.get(kind)!.values()].filter((o) => o.metadata.namespace === namespace),
    create,
    stallWatches() {
      for (const w of watchers) w.stalled = true
      return watchers.size
    },
    compact({ endWatches = true } = {}) {
      compactedRv = ++rv
      history.length = 0
      if (!endWatches) return 0
      const n = watchers.size
      for (const w of [...watchers]) {
        watchers.delete(w)
        for (const t of w.timers) clearTimeout(t)
        w.res.end(
          `${JSON.stringify({ type: 'ERROR', object: statusBody(410, 'Expired', 'too old resource version') })}\n`,
        )
      }
      return n
    },
    openWatches: () => watchers.size,
    processes: () => new Map([...procs].map(([k, p]) => [k.split('/')[1], p.child.pid!])),
    async close() {
      for (const [, p] of procs) {
        try {
          process.kill(-p.child.pid!, 'SIGKILL')
        } catch {
          /* gone */
        }
      }
      await Promise.all(
        [...procs.values()].map((p) =>
          p.child.exitCode === null && p.child.signalCode === null
            ? new Promise((r) => p.child.once('exit', r))
            : undefined,
        ),
      )
      for (const w of watchers) for (const t of w.timers) clearTimeout(t)
      watchers.clear()
      for (const s of sockets) s.destroy()
      await new Promise((r) => server.close(r))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
