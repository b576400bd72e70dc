// JupyterHub 6's rule for the names of new named servers: short URL-safe slugs. Servers recorded
// under an older, wider name (spawn/names.ts) keep it, and can still be started, stopped, renamed
// and removed (JupyterHub's default, allow_existing_invalid_named_servers = "allow-start").
import { BadRequest } from '../../../runtime/src/errors'

export const NEW_SERVER_NAME_MAX = 30

/** Lower-case letters and digits, single hyphens between them, starting with a letter. */
const SLUG = /^[a-z](?:-?[a-z0-9])*$/

/** The name, when a new server may take it; BadRequest naming the rule otherwise. */
export function checkNewServerName(name: string): string {
  if (name.length > NEW_SERVER_NAME_MAX || !SLUG.test(name)) {
    throw new BadRequest(
      `invalid server name ${JSON.stringify(name.slice(0, 64))}: a new server's name is 1 to ${NEW_SERVER_NAME_MAX} lower-case letters, digits and single hyphens, starting with a letter and not ending with a hyphen`,
      'invalid_name',
    )
  }
  return name
}
