// Reading JSON bodies strictly: a clear 400 for bad JSON, a non-object, unknown fields or wrong types.
import type { Context } from 'hono'
import type { HubEnv } from '../http/env'
import { BadRequest } from '../../../runtime/src/errors'

type Check = 'boolean' | 'string' | 'number' | 'object' | 'string[]'

function is(v: unknown, t: Check): boolean {
  if (t === 'string[]') return Array.isArray(v) && v.every((x) => typeof x === 'string')
  if (t === 'object') return typeof v === 'object' && v !== null && !Array.isArray(v)
  if (t === 'number') return typeof v === 'number' && Number.isFinite(v)
  return typeof v === t
}

const described: Record<Check, string> = {
  boolean: 'true or false',
  string: 'a string',
  number: 'a number',
  object: 'a JSON object',
  'string[]': 'a list of strings',
}

/**
 * The body as an object whose fields have the given types (all optional); `{}` for an empty body
 * unless `required`. `null` values count as absent.
 */
export async function jsonBody<S extends Record<string, Check>>(
  c: Context<HubEnv>,
  shape: S,
  opts: { required?: boolean } = {},
): Promise<{
  [K in keyof S]?: S[K] extends 'boolean'
    ? boolean
    : S[K] extends 'string'
      ? string
      : S[K] extends 'number'
        ? number
        : S[K] extends 'string[]'
          ? string[]
          : Record<string, unknown>
}> {
  const raw = (await c.req.text()).trim()
  if (!raw) {
    if (opts.required) throw new BadRequest('expected a JSON body')
    return {}
  }
  let body: unknown
  try {
    body = JSON.parse(raw)
  } catch {
    throw new BadRequest('the body is not valid JSON')
  }
  if (!is(body, 'object')) throw new BadRequest('expected a JSON object')
  const obj = body as Record<string, unknown>
  const unknown = Object.keys(obj).filter((k) => !(k in shape))
  if (unknown.length) throw new BadRequest(`unknown field${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`)
  for (const [k, t] of Object.entries(shape)) {
    if (obj[k] === null) delete obj[k]
    else if (obj[k] !== undefined && !is(obj[k], t)) throw new BadRequest(`${k} must be ${described[t]}`)
  }
  return obj as never
}
