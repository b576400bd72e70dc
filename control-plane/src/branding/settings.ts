// The `ui` settings: the look of the hub's pages and of the proxy's error pages. Colours are checked
// against the backgrounds they are shown on (WCAG AA) when the config is read, so a hub cannot start
// with buttons or links people cannot read.
import { z } from 'zod'
import { contrastRatio, isHexColour, textOn } from './colour'

/** The backgrounds of the light and dark themes' cards (pages/layout.tsx). */
export const LIGHT_BACKGROUND = '#ffffff'
export const DARK_BACKGROUND = '#161b22'
/** WCAG 2.1 AA for normal text. */
export const AA_TEXT = 4.5

const colour = z.string().refine(isHexColour, 'expected a colour as #rgb or #rrggbb')
const text = (max: number) => z.string().max(max, `at most ${max} characters`)

/** Why `value` fails AA as a button colour (with its own text on it) or a link colour (on `background`). */
export function colourProblem(kind: 'button' | 'link', value: string, background: string): string | undefined {
  if (!isHexColour(value)) return undefined
  const ratio = kind === 'button' ? contrastRatio(value, textOn(value)) : contrastRatio(value, background)
  if (ratio >= AA_TEXT) return undefined
  const against = kind === 'button' ? `its text (${textOn(value)})` : `the background ${background}`
  return `contrast ${ratio.toFixed(2)}:1 against ${against} is below WCAG AA (4.5:1)`
}

export const uiSettings = z
  .strictObject({
    siteName: text(60).min(1).default('edgehub').describe("The hub's name in every page's header and title."),
    logo: z
      .string()
      .optional()
      .describe(
        'A PNG, JPEG, SVG or WebP file shown beside the name in the header, read once at start (at most 64 KiB; it is inlined into each page). Default: none.',
      ),
    primaryColour: colour
      .optional()
      .describe(
        'Colour of buttons and progress bars in the light theme (#rgb or #rrggbb); its text is white or black, whichever reads better, and must reach 4.5:1 (WCAG AA) or the hub does not start. Default: #a8470f.',
      ),
    primaryColourDark: colour
      .optional()
      .describe('The same in the dark theme, checked the same way. Default: #f0883e.'),
    linkColour: colour
      .optional()
      .describe(`Colour of links in the light theme; must reach 4.5:1 against ${LIGHT_BACKGROUND}. Default: #0550ae.`),
    linkColourDark: colour
      .optional()
      .describe(`Colour of links in the dark theme; must reach 4.5:1 against ${DARK_BACKGROUND}. Default: #79c0ff.`),
    loginText: text(2000)
      .default('')
      .describe('A paragraph shown above the login form (plain text, at most 2000 characters).'),
    announcement: text(2000)
      .default('')
      .describe(
        "A banner on every page of the hub (JupyterHub's template_vars announcement; plain text here, not HTML). At most 2000 characters.",
      ),
    announcementLogin: text(2000)
      .default('')
      .describe('A banner on the login page only (announcement_login). Plain text, at most 2000 characters.'),
    templatePath: z
      .string()
      .optional()
      .describe(
        "A folder of override files read once at start (docs/web-interface.md, Branding): head.html, header.html, footer.html, login.html replace those blocks of every hub page; proxy-403.html, proxy-502.html, proxy-503.html replace the proxy's error pages. At most 64 KiB each; any other file name stops the start. Default: none.",
      ),
  })
  .superRefine((ui, ctx) => {
    const checks: Array<[keyof typeof ui, 'button' | 'link', string]> = [
      ['primaryColour', 'button', LIGHT_BACKGROUND],
      ['primaryColourDark', 'button', DARK_BACKGROUND],
      ['linkColour', 'link', LIGHT_BACKGROUND],
      ['linkColourDark', 'link', DARK_BACKGROUND],
    ]
    for (const [key, kind, background] of checks) {
      const value = ui[key]
      const problem = typeof value === 'string' ? colourProblem(kind, value, background) : undefined
      if (problem) ctx.addIssue({ code: 'custom', path: [key], message: problem })
    }
  })
  .prefault({})
  .describe('The look of the pages: name, logo, colours, login text, announcements, template overrides.')

export type UiSettings = z.infer<typeof uiSettings>
