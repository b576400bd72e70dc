// JupyterHub's ServerRequest body (6.0) for starting (POST) and creating (PUT) a server, and the
// body of PATCH, read strictly: 400 with a message for bad JSON, a non-object or wrong types.
import type { Context } from 'hono'
import type { HubEnv } from '../http/env'
import { BadRequest, HubError } from '../../../runtime/src/errors'
import { checkDisplayName } from '../spawn/display-name'
import type { ServerChange } from '../spawn/server-edits'
import type { Json } from '../../../spawners/src'

type Options = { [k: string]: Json }

export interface ServerRequest {
  /** Checked and normalised; null when none was asked for (or it was ''). */
  displayName: string | null
  /** null: keep the options of the last start (no body, or `"user_options": null`). */
  userOptions: Options | null
}

const isObject = (v: unknown): v is Options => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Most bytes of a server request's body: user_options are kept in the server's record and sent back
 * in every model of it (a stopped server made with PUT costs no process, only this).
 */
export const SERVER_REQUEST_MAX_BYTES = 64 * 1024

async function readObject(c: Context<HubEnv>): Promise<Record<string, unknown> | null> {
  const raw = (await c.req.text()).trim()
  if (Buffer.byteLength(raw) > SERVER_REQUEST_MAX_BYTES)
    throw new HubError(
      413,
      `the body is larger than ${SERVER_REQUEST_MAX_BYTES / 1024} KiB (user_options are kept with the server)`,
      'too_large',
    )
  if (!raw) return null
  let body: unknown
  try {
    body = JSON.parse(raw)
  } catch {
    throw new BadRequest('the body is not valid JSON')
  }
  if (body === null) return null
  if (!isObject(body)) throw new BadRequest('the body must be a JSON object')
  return body
}

/**
 * As JupyterHub 6: `{"display_name", "user_options"}`; a body with neither key is the user_options
 * itself (how every earlier version read it). Other keys beside those two are refused.
 */
export async function serverRequest(c: Context<HubEnv>): Promise<ServerRequest> {
  const body = await readObject(c)
  if (!body || Object.keys(body).length === 0) return { displayName: null, userOptions: null } // {} too, as JupyterHub reads it
  if (!('display_name' in body) && !('user_options' in body)) return { displayName: null, userOptions: body as Options }
  const unknown = Object.keys(body).filter((k) => k !== 'display_name' && k !== 'user_options')
  if (unknown.length)
    throw new BadRequest(
      `unknown field${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')} (with display_name or user_options, the options go in user_options)`,
    )
  const { display_name: name, user_options: options } = body
  if (name !== undefined && typeof name !== 'string') throw new BadRequest('display_name must be a string')
  if (options !== undefined && options !== null && !isObject(options))
    throw new BadRequest('user_options must be a JSON object or null')
  return { displayName: name ? checkDisplayName(name) : null, userOptions: options ?? null }
}

/** PATCH's body: at least one of name, display_name and user_options (JupyterHub 6). */
export async function serverChange(c: Context<HubEnv>): Promise<ServerChange> {
  const body = (await readObject(c)) ?? {}
  const keys = Object.keys(body)
  if (keys.length === 0) throw new BadRequest('specify at least one of name, display_name and user_options to modify')
  const unknown = keys.filter((k) => k !== 'name' && k !== 'display_name' && k !== 'user_options')
  if (unknown.length)
    throw new BadRequest(
      `unknown field${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')} (name, display_name and user_options can be modified)`,
    )
  const { name, display_name: displayName, user_options: options } = body
  if (name !== undefined && typeof name !== 'string') throw new BadRequest('name must be a string')
  if (displayName !== undefined && typeof displayName !== 'string')
    throw new BadRequest('display_name must be a string')
  if (options !== undefined && !isObject(options)) throw new BadRequest('user_options must be a JSON object')
  return {
    ...(name !== undefined ? { name } : {}),
    ...(displayName ? { displayName: checkDisplayName(displayName) } : {}),
    ...(options !== undefined ? { userOptions: options } : {}),
  }
}
