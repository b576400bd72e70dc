// The server image on the engine, by the pull policy: there already, or pulled with its progress
// reported, or a start that fails saying which image is missing.
import type Docker from 'dockerode'
import { dockerMessage, isNotFound } from './engine'

export type PullPolicy = 'ifNotPresent' | 'always' | 'never'

/** Pull progress as Docker streams it, one JSON object per step and layer. */
interface PullEvent {
  status?: string
  id?: string
  progress?: string
  error?: string
}

/** Most progress lines a pull reports, and least time between two of the same kind. */
const MAX_PULL_LINES = 60
const LINE_INTERVAL_MS = 2_000

/** The image's configuration (its USER), pulling it first as the policy says. */
export async function ensureImage(
  docker: Docker,
  image: string,
  policy: PullPolicy,
  progress: (message: string) => void,
  signal: AbortSignal,
): Promise<{ user: string }> {
  const present = await inspectImage(docker, image)
  if (!present && policy === 'never')
    throw new Error(
      `image ${image} is not on the Docker engine, and spawner.docker.pullPolicy is never: pull it there first (docker pull ${image})`,
    )
  if (!present || policy === 'always') {
    progress(`Pulling image ${image}`)
    await pull(docker, image, progress, signal)
    signal.throwIfAborted()
  }
  const after = present && policy !== 'always' ? present : await inspectImage(docker, image)
  if (!after) throw new Error(`image ${image} is not on the Docker engine after pulling it`)
  return after
}

async function inspectImage(docker: Docker, image: string): Promise<{ user: string } | undefined> {
  try {
    const info = await docker.getImage(image).inspect()
    return { user: info.Config?.User ?? '' }
  } catch (err) {
    if (isNotFound(err)) return undefined
    throw new Error(`could not look up image ${image}: ${dockerMessage(err)}`)
  }
}

async function pull(docker: Docker, image: string, progress: (m: string) => void, signal: AbortSignal) {
  let stream: NodeJS.ReadableStream
  try {
    stream = await docker.pull(image, { abortSignal: signal })
  } catch (err) {
    signal.throwIfAborted()
    throw new Error(`could not pull image ${image}: ${dockerMessage(err)}`)
  }
  let lines = 0
  let lastAt = 0
  let lastKey = ''
  const onStep = (e: PullEvent) => {
    if (!e.status || lines >= MAX_PULL_LINES) return
    const key = `${e.id ?? ''} ${e.status}`
    const now = Date.now()
    // a new step of a layer is worth a line; the same step's byte counts, one every few seconds
    if (key === lastKey && now - lastAt < LINE_INTERVAL_MS) return
    if (e.progress && now - lastAt < LINE_INTERVAL_MS) return
    lastKey = key
    lastAt = now
    lines++
    progress(`Pulling image ${image}: ${[e.id, e.status, e.progress].filter(Boolean).join(' ')}`)
  }
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    docker.modem.followProgress(
      stream,
      (err: Error | null, events: PullEvent[]) => {
        signal.removeEventListener('abort', onAbort)
        const failed = err ? dockerMessage(err) : events?.find((e) => e.error)?.error
        if (failed) reject(new Error(`could not pull image ${image}: ${failed}`))
        else resolve()
      },
      onStep,
    )
  })
}
