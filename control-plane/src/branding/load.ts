// The branding of a hub from its `ui` settings: the logo read and inlined, the template folder read,
// the defaults filled in. Called once at start; a problem is one line naming the setting.
import { readFileSync, statSync } from 'node:fs'
import { extname } from 'node:path'
import { type Branding, DEFAULT_BRANDING } from './branding'
import type { UiSettings } from './settings'
import { readTemplateFolder, TemplateError } from './templates'

export const MAX_LOGO_BYTES = 64 * 1024
const LOGO_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.webp': 'image/webp',
}

/** The logo as a data: URL (served inside each page, so no route and no file read per request). */
export function logoDataUrl(path: string): string {
  const type = LOGO_TYPES[extname(path).toLowerCase()]
  if (!type) throw new TemplateError(`ui.logo: ${path} is not a .png, .jpg, .svg or .webp file`)
  let size: number
  try {
    size = statSync(path).size
  } catch (err) {
    throw new TemplateError(`ui.logo: cannot read ${path}: ${(err as NodeJS.ErrnoException).code}`)
  }
  if (size > MAX_LOGO_BYTES) throw new TemplateError(`ui.logo: ${path} is larger than ${MAX_LOGO_BYTES} bytes`)
  return `data:${type};base64,${readFileSync(path).toString('base64')}`
}

export function brandingFrom(ui: UiSettings): Branding {
  return {
    siteName: ui.siteName,
    logo: ui.logo ? logoDataUrl(ui.logo) : '',
    primaryColour: ui.primaryColour ?? DEFAULT_BRANDING.primaryColour,
    primaryColourDark: ui.primaryColourDark ?? DEFAULT_BRANDING.primaryColourDark,
    linkColour: ui.linkColour ?? DEFAULT_BRANDING.linkColour,
    linkColourDark: ui.linkColourDark ?? DEFAULT_BRANDING.linkColourDark,
    loginText: ui.loginText,
    announcement: ui.announcement,
    announcementLogin: ui.announcementLogin,
    blocks: ui.templatePath ? readTemplateFolder(ui.templatePath, ui.siteName).blocks : {},
  }
}
