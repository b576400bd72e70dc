// Server display names (JupyterHub 6): free text for pages, with JupyterHub's rules, checked after
// Unicode NFC normalisation.
import { BadRequest } from '../../../runtime/src/errors'

/** Letters, marks, numbers, punctuation and symbols of any script, and single inner spaces. */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]+$/u
export const DISPLAY_NAME_MAX = 255

/** The name, normalised; BadRequest when it breaks the rules (1 to 255 characters, as above). */
export function checkDisplayName(raw: string): string {
  const name = raw.normalize('NFC')
  const length = [...name].length
  if (
    length < 1 ||
    length > DISPLAY_NAME_MAX ||
    !PRINTABLE.test(name) ||
    name.includes('  ') ||
    name.startsWith(' ') ||
    name.endsWith(' ')
  ) {
    throw new BadRequest(
      `invalid display_name: use 1 to ${DISPLAY_NAME_MAX} printable characters, with single spaces only between words`,
      'invalid_display_name',
    )
  }
  return name
}
