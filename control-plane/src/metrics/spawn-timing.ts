// Spawn and stop durations (jupyterhub_server_spawn_duration_seconds, jupyterhub_server_stop_seconds),
// timed around the orchestrator's public start and stop, labelled with JupyterHub's statuses.
import { BadRequest, SpawnThrottled } from '../../../runtime/src/errors'
import { ActiveServerLimitReached } from '../spawn/active-limit'
import type { Orchestrator } from '../spawn/orchestrator'
import type { Servers } from '../state/servers'
import type { HubMetrics, SpawnStatus } from './hub-metrics'

const timed = new WeakSet<Orchestrator>()

/**
 * Wraps `orchestrator.start` and `.stop` of this process once. A start that answers 'pending' goes
 * on in the background: it is timed until it settles, and judged by the server's recorded state.
 * A start refused for another reason (already running, named servers off) is no spawn and is not
 * counted, as in JupyterHub.
 */
export function timeSpawnsAndStops(orchestrator: Orchestrator, servers: Servers, m: HubMetrics): void {
  if (timed.has(orchestrator)) return
  timed.add(orchestrator)
  const start = orchestrator.start.bind(orchestrator)
  const stop = orchestrator.stop.bind(orchestrator)
  const observe = (t0: number, status: SpawnStatus) =>
    m.spawnDuration.observe({ status }, (performance.now() - t0) / 1000)

  orchestrator.start = async (user, server, ...rest) => {
    const t0 = performance.now()
    let answer: 'ready' | 'pending'
    try {
      answer = await start(user, server, ...rest)
    } catch (err) {
      const status = refusal(err)
      if (status) observe(t0, status)
      throw err
    }
    if (answer === 'ready') observe(t0, 'success')
    else
      void orchestrator
        .settled(user, server)
        .then(() => servers.get(user, server))
        .then(
          (rec) => observe(t0, rec?.state === 'running' ? 'success' : 'failure'),
          () => observe(t0, 'failure'),
        )
    return answer
  }

  orchestrator.stop = async (user, server, ...rest) => {
    const t0 = performance.now()
    try {
      await stop(user, server, ...rest)
      m.stopDuration.observe({ status: 'success' }, (performance.now() - t0) / 1000)
    } catch (err) {
      m.stopDuration.observe({ status: 'failure' }, (performance.now() - t0) / 1000)
      throw err
    }
  }
}

/** JupyterHub's status for a start that failed; undefined for one that was no spawn at all. */
function refusal(err: unknown): SpawnStatus | undefined {
  if (err instanceof SpawnThrottled) return 'throttled'
  if (err instanceof ActiveServerLimitReached) return 'too-many-users'
  if (err instanceof BadRequest) return err.code === 'pending' ? 'already-pending' : undefined
  return 'failure'
}
