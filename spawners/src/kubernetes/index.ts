// kubernetes: each server is a pod (and each user has a PersistentVolumeClaim for a home), made
// through the Kubernetes API. What a start needs to find its pod again (namespace, pod name, pod uid)
// is its state, kept in Redis by the hub, so any replica polls or stops what another started. One
// shared informer per kind (pods, events) serves every server: poll reads its cache, start and stop
// wait on its changes, and the events about a starting pod are its progress.
import type { ServerStatus, SpawnRequest, Spawner, SpawnerLogger, SpawnerState } from '../spawner'
import { chooseProfile, profileForm, profileOverrides } from '../profiles'
import { objectName } from '../object-names'
import { jupyterhubEnv } from '../jupyterhub-env'
import { apiMessage, SharedInformer } from './informer'
import { kubeApi, loadKubeConfig, type KubeApi } from './api'
import { claimManifest, podManifest, SERVER_CONTAINER, withOverrides } from './manifests'
import { ANNOTATION_BASE_URL, ANNOTATION_HUB, ANNOTATION_SERVER, ANNOTATION_USER, hubPods, SERVER_PODS } from './labels'
import { ended, exitMessage, podRecord, serving, type PodRecord } from './pod-status'
import { eventRecord, progressLine, type EventRecord } from './events'
import type { KubernetesSettings } from './settings'

export interface KubernetesSpawner extends Spawner {
  /** The shared informers (tests read their stats). */
  readonly informers: { pods: SharedInformer<PodRecord>; events: SharedInformer<EventRecord> }
  /** Ends the watches (a hub shutting down; tests). */
  close(): void
}

interface PodState {
  namespace: string
  pod: string
  uid: string
  port: number
  baseUrl: string
}

const stateOf = (s: SpawnerState): PodState => ({
  namespace: String(s.namespace),
  pod: String(s.pod),
  uid: String(s.uid),
  port: Number(s.port),
  baseUrl: String(s.baseUrl),
})

const httpCode = (err: unknown) => (err as { code?: number }).code

/** The server container ended while starting: its last lines are added to the message. */
class PodEnded extends Error {}
const LOG_LINES = 10
const LOG_CHARS = 2000

/** Time a re-check runs while waiting on the cache, for what time alone changes (the unschedulable bound). */
const RECHECK_MS = 500
/** Longest a start that has its pod running waits for the Started event to arrive, for the progress. */
const STARTED_EVENT_WAIT_MS = 1000
/** How often a stop asks the API server whether the pod is gone, besides watching the cache. */
const GONE_PROBE_MS = 2000

export function createKubernetesSpawner(
  settings: KubernetesSettings,
  opts: { log: SpawnerLogger; defaultUrl?: string; api?: KubeApi },
): KubernetesSpawner {
  const { namespace } = settings
  const api = opts.api ?? kubeApi(loadKubeConfig(settings), namespace, SERVER_PODS)
  const { core } = api
  const informerOpts = {
    resyncMs: settings.informer.resyncSeconds * 1000,
    watchTimeoutSeconds: settings.informer.watchTimeoutSeconds,
    quietMs: settings.informer.watchQuietSeconds * 1000,
    log: opts.log,
  }
  const pods = new SharedInformer(api.pods, podRecord, { ...informerOpts, what: 'pods' })
  const events = new SharedInformer(api.events, eventRecord, { ...informerOpts, what: 'events', cache: false })
  const profiles = settings.profiles
  const listeners: Array<(s: SpawnerState) => void> = []
  /** Pods this process started and has not seen end, by pod name. */
  const started = new Map<string, SpawnerState>()
  pods.subscribe((change, key, rec) => {
    const state = started.get(key)
    if (!state || state.uid !== rec.uid || (change !== 'DELETED' && !ended(rec))) return
    started.delete(key)
    for (const l of listeners) l(state)
  })

  /**
   * Resolves with `check`'s first defined answer, asked at every change of pod `name` and every
   * RECHECK_MS; rejects when `check` throws, or at `signal`.
   */
  function waitOnPod<T>(name: string, check: () => T | undefined, signal: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const finish = (f: () => void) => {
        unsubscribe()
        clearInterval(timer)
        signal.removeEventListener('abort', onAbort)
        f()
      }
      const test = () => {
        try {
          const v = check()
          if (v !== undefined) finish(() => resolve(v))
        } catch (err) {
          finish(() => reject(err))
        }
      }
      const onAbort = () => finish(() => reject(signal.reason))
      const unsubscribe = pods.subscribe((_, key) => key === name && test())
      const timer = setInterval(test, RECHECK_MS)
      signal.addEventListener('abort', onAbort, { once: true })
      if (signal.aborted) onAbort()
      else test()
    })
  }

  /** The pod's record: from the cache when it has this instance, else from the API server. */
  async function current(st: PodState): Promise<PodRecord | undefined> {
    const cached = st.namespace === namespace ? pods.get(st.pod) : undefined
    if (cached && cached.uid === st.uid) return cached
    try {
      const pod = await core.readNamespacedPod({ name: st.pod, namespace: st.namespace })
      const rec = podRecord(pod)?.record
      return rec && rec.uid === st.uid ? rec : undefined
    } catch (err) {
      if (httpCode(err) === 404) return undefined
      throw new Error(`reading pod ${st.pod}: ${apiMessage(err)}`)
    }
  }

  async function ensureClaim(name: string, owner: Parameters<typeof claimManifest>[2], progress: (m: string) => void) {
    try {
      await core.readNamespacedPersistentVolumeClaim({ name, namespace })
      return
    } catch (err) {
      if (httpCode(err) !== 404) throw new Error(`reading volume claim ${name}: ${apiMessage(err)}`)
    }
    try {
      await core.createNamespacedPersistentVolumeClaim({ namespace, body: claimManifest(settings, name, owner) })
      progress(`Created volume claim ${name}`)
    } catch (err) {
      if (httpCode(err) !== 409) throw new Error(`creating volume claim ${name}: ${apiMessage(err)}`)
    }
  }

  /**
   * Deletes pod `name` (only instance `uid` when given) and waits until it is gone. `ns`: a state's
   * namespace, which is not the configured one when that setting changed since the pod was made.
   */
  async function deletePod(name: string, uid: string | undefined, graceSeconds: number, ns = namespace) {
    try {
      await core.deleteNamespacedPod({
        name,
        namespace: ns,
        body: { gracePeriodSeconds: graceSeconds, ...(uid ? { preconditions: { uid } } : {}) },
      })
    } catch (err) {
      // 404: already gone; 409: the uid precondition failed, so that pod is another (newer) one
      if (httpCode(err) === 404 || httpCode(err) === 409) return
      throw new Error(`deleting pod ${name}: ${apiMessage(err)}`)
    }
    const limit = (graceSeconds + settings.deleteTimeoutSeconds) * 1000
    const signal = AbortSignal.timeout(limit)
    await pods.ready(signal)
    // gone: the cache had this pod and no longer has it, or the API server says so (asked now and
    // then: the cache may not have seen a pod another replica made a moment ago, or its watch may
    // be stalled until the watchdog ends it)
    const cachedAtStart = ns === namespace ? pods.get(name) : undefined
    const tracked = !!cachedAtStart && (!uid || cachedAtStart.uid === uid)
    let goneByApi = false
    const ask = async () => {
      try {
        const pod = await core.readNamespacedPod({ name, namespace: ns })
        if (uid && pod.metadata?.uid !== uid) goneByApi = true
      } catch (err) {
        if (httpCode(err) === 404) goneByApi = true
      }
    }
    const asking = setInterval(() => void ask(), GONE_PROBE_MS)
    void ask()
    try {
      await waitOnPod(
        name,
        () => {
          if (goneByApi) return true
          const rec = pods.get(name)
          if (tracked && (!rec || (uid && rec.uid !== uid))) return true
          return undefined
        },
        signal,
      )
    } catch (err) {
      throw new Error(`pod ${name} was not gone ${limit / 1000} s after its deletion (${String(err)})`)
    } finally {
      clearInterval(asking)
    }
  }

  async function createPod(body: ReturnType<typeof podManifest>, progress: (m: string) => void): Promise<string> {
    const name = body.metadata!.name!
    for (let attempt = 0; ; attempt++) {
      try {
        const pod = await core.createNamespacedPod({ namespace, body })
        return pod.metadata?.uid ?? ''
      } catch (err) {
        // a pod of that name already exists (a server stopped a moment ago, still terminating; one
        // left by a crashed start): it is replaced, as KubeSpawner does
        if (httpCode(err) !== 409 || attempt > 0) throw new Error(`creating pod ${name}: ${apiMessage(err)}`)
        progress(`Removing the previous pod ${name}`)
        await deletePod(name, undefined, 1)
      }
    }
  }

  /** Waits until the pod serves, streaming nothing itself (events do); throws saying why it cannot. */
  async function untilServing(name: string, uid: string, signal: AbortSignal): Promise<void> {
    let unschedulableSince: number | undefined
    const bound = settings.unschedulableTimeoutSeconds * 1000
    await waitOnPod(
      name,
      () => {
        const rec = pods.get(name)
        if (!rec || rec.uid !== uid) return undefined // not seen yet (created a moment ago)
        if (serving(rec)) return true
        if (rec.deleting) throw new Error(`the pod ${name} was deleted while starting`)
        if (ended(rec)) throw new PodEnded(exitMessage(rec))
        if (rec.stuck) throw new Error(rec.stuck)
        if (rec.unschedulable) {
          unschedulableSince ??= Date.now()
          if (Date.now() - unschedulableSince >= bound) throw new Error(`FailedScheduling: ${rec.unschedulable}`)
        } else unschedulableSince = undefined
        return undefined
      },
      signal,
    )
  }

  /** The server container's last log lines, for a server that exited while starting ('' when none). */
  async function lastLines(name: string, ns = namespace): Promise<string> {
    try {
      const log = await core.readNamespacedPodLog({
        name,
        namespace: ns,
        container: SERVER_CONTAINER,
        tailLines: LOG_LINES,
      })
      const lines = String(log).trimEnd()
      return lines ? `; its last lines:\n${lines.slice(-LOG_CHARS)}` : ''
    } catch {
      return ''
    }
  }

  /** The informers start at the first use of any kind: a replica that only polls reads the cache too. */
  const warmUp = () => {
    pods.ready().catch(() => {})
  }

  const spawner: KubernetesSpawner = {
    informers: { pods, events },
    close() {
      pods.close()
      events.close()
    },
    instanceKey: (state) => `${state.namespace}/${state.pod}#${state.uid}`,
    optionsForm: (user) => profileForm(profiles, user),
    checkOptions: (user, options) => chooseProfile(profiles, user, options).options,

    async start(req: SpawnRequest, signal: AbortSignal): Promise<SpawnerState> {
      signal.throwIfAborted()
      const s = withOverrides(settings, profileOverrides(profiles, req.options))
      const owner = { user: req.user, server: req.server, hubId: req.env.EDGEHUB_HUB_ID ?? '', baseUrl: req.baseUrl }
      const vars = { username: req.user, servername: req.server }
      const name = objectName(settings.podNameTemplate, vars)
      await Promise.all([
        pods.ready(signal),
        // without events (no permission to watch them, say) a start goes on, with less progress to show
        events.ready(signal).catch((err: unknown) => {
          if (!signal.aborted) opts.log.warn('pod events unavailable; starting without them', { err: String(err) })
        }),
      ])
      let uid = ''
      const told = new Set<string>()
      let containerStarted: (() => void) | undefined
      const unsubscribe = events.subscribe((_, __, e) => {
        if (e.pod !== name || (uid && e.podUid && e.podUid !== uid)) return
        const line = progressLine(e)
        if (told.has(line)) return
        told.add(line)
        req.progress(line)
        if (e.reason === 'Started') containerStarted?.()
      })
      try {
        const claim = settings.storage.enabled ? objectName(settings.storage.pvcNameTemplate, vars) : undefined
        if (claim) await ensureClaim(claim, owner, req.progress)
        signal.throwIfAborted()
        const env = {
          ...s.env,
          ...jupyterhubEnv(req.env, {
            user: req.user,
            server: req.server,
            baseUrl: req.baseUrl,
            ip: s.ip,
            port: s.port,
            defaultUrl: opts.defaultUrl,
          }),
        }
        req.progress(`Creating pod ${name}`)
        uid = await createPod(podManifest(s, { name, claim, owner, env }), req.progress)
        const state: SpawnerState = { namespace, pod: name, uid, port: s.port, baseUrl: req.baseUrl }
        try {
          await untilServing(name, uid, signal)
        } catch (failure) {
          let err = failure
          if (err instanceof PodEnded) err = new Error(`${err.message}${await lastLines(name)}`)
          // nothing half-made is left: the pod goes (the claim is the user's home, and stays)
          await deletePod(name, uid, 0).catch((e: unknown) =>
            opts.log.warn('could not delete the pod of a failed start', { pod: name, err: String(e) }),
          )
          throw err
        }
        // the events come on a watch of their own, which may lag the pod's: the container's Started
        // event is waited for a moment, so the progress shows it
        if (events.isSynced && ![...told].some((l) => l.startsWith('Started')))
          await new Promise<void>((resolve) => {
            containerStarted = resolve
            setTimeout(resolve, STARTED_EVENT_WAIT_MS).unref()
          })
        started.set(name, state)
        opts.log.info('started server pod', { user: req.user, server: req.server, pod: name, namespace })
        return state
      } finally {
        unsubscribe()
      }
    },

    async poll(state: SpawnerState): Promise<ServerStatus> {
      warmUp()
      const st = stateOf(state)
      const rec = await current(st)
      if (!rec) return { phase: 'stopped', reason: 'the pod is gone' }
      if (rec.deleting) return { phase: 'stopped', reason: 'the pod is being deleted' }
      if (ended(rec))
        return {
          phase: 'stopped',
          exitCode: rec.exitCode,
          reason: `${exitMessage(rec)}${await lastLines(st.pod, st.namespace)}`,
        }
      if (serving(rec)) {
        const target = `${rec.podIP.includes(':') ? `[${rec.podIP}]` : rec.podIP}:${st.port}`
        return { phase: 'running', target, url: `http://${target}${st.baseUrl}` }
      }
      return { phase: 'pending', message: rec.unschedulable ?? rec.stuck }
    },

    async stop(state: SpawnerState, { graceMs = 10_000 } = {}): Promise<void> {
      const st = stateOf(state)
      await deletePod(st.pod, st.uid, Math.max(0, Math.ceil(graceMs / 1000)), st.namespace)
      started.delete(st.pod)
    },

    async list(hubId: string) {
      const l = await core.listNamespacedPod({ namespace, labelSelector: hubPods(hubId) }).catch((err: unknown) => {
        throw new Error(`listing pods: ${apiMessage(err)}`)
      })
      const out = []
      for (const pod of l.items) {
        const a = pod.metadata?.annotations ?? {}
        const rec = podRecord(pod)?.record
        // the label is the hub id escaped (and, when long, hashed): the annotation says it exactly
        if (!rec || a[ANNOTATION_HUB] !== hubId || rec.deleting || ended(rec)) continue
        const port = pod.spec?.containers?.[0]?.ports?.[0]?.containerPort ?? settings.port
        out.push({
          user: a[ANNOTATION_USER] ?? '',
          server: a[ANNOTATION_SERVER] ?? '',
          state: { namespace, pod: pod.metadata!.name!, uid: rec.uid, port, baseUrl: a[ANNOTATION_BASE_URL] ?? '' },
        })
      }
      return out
    },

    onExit(listener) {
      listeners.push(listener)
    },
  }
  return spawner
}
