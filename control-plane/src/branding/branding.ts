// The look of the hub's pages as the `ui` settings give it: the site's name, its logo, the primary
// colour of buttons and links, the login page's text and the announcements. Set once when the hub
// starts (setBranding) and read by the page layout; the defaults are the hub's own look.

export interface Branding {
  /** Shown in the header and in every page's title. */
  siteName: string
  /** The logo as a data: URL ('' for none). */
  logo: string
  /** Buttons and the progress bar, light and dark themes ("#rrggbb"). */
  primaryColour: string
  primaryColourDark: string
  /** Links, light and dark themes. */
  linkColour: string
  linkColourDark: string
  /** A paragraph above the login form. */
  loginText: string
  /** A banner on every page (JupyterHub's template_vars announcement). */
  announcement: string
  /** A banner on the login page only (announcement_login). */
  announcementLogin: string
  /** Named blocks of HTML from the template folder (templates.ts), by block name. */
  blocks: Readonly<Record<string, string>>
}

export const DEFAULT_BRANDING: Branding = {
  siteName: 'edgehub',
  logo: '',
  primaryColour: '#a8470f',
  primaryColourDark: '#f0883e',
  linkColour: '#0550ae',
  linkColourDark: '#79c0ff',
  loginText: '',
  announcement: '',
  announcementLogin: '',
  blocks: {},
}

let current: Branding = DEFAULT_BRANDING

export function setBranding(b: Branding): void {
  current = b
}

export const branding = (): Branding => current
