// The template folder (ui.templatePath), read once at start. Hub pages: whole named blocks of HTML
// (head, header, footer, login) written by the operator, trusted as JupyterHub's templates are, with
// {{site_name}} replaced (escaped). Proxy pages: whole pages with {{status}}, {{title}} and
// {{message}}, filled in (escaped) by the proxy. No file is read while serving a request.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'

export const HUB_BLOCKS = ['head', 'header', 'footer', 'login'] as const
export const PROXY_PAGES = { 'proxy-403.html': 403, 'proxy-502.html': 502, 'proxy-503.html': 503 } as const
export const MAX_TEMPLATE_BYTES = 64 * 1024

export interface TemplateFolder {
  /** Hub blocks by name, placeholders filled in. */
  blocks: Record<string, string>
  /** Proxy error pages by status, placeholders left for the proxy. */
  proxyPages: Record<number, string>
}

export class TemplateError extends Error {}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

/** Reads the folder; a file it does not know, too large or unreadable is a TemplateError naming it. */
export function readTemplateFolder(dir: string, siteName: string): TemplateFolder {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch (err) {
    throw new TemplateError(`ui.templatePath: cannot read the folder ${dir}: ${(err as NodeJS.ErrnoException).code}`)
  }
  const out: TemplateFolder = { blocks: {}, proxyPages: {} }
  for (const name of names.sort()) {
    const path = join(dir, name)
    const block = HUB_BLOCKS.find((b) => `${b}.html` === name)
    const status = PROXY_PAGES[name as keyof typeof PROXY_PAGES]
    if (!block && !status) {
      const known = [...HUB_BLOCKS.map((b) => `${b}.html`), ...Object.keys(PROXY_PAGES)].join(', ')
      throw new TemplateError(`ui.templatePath: ${path} is not a known template (known: ${known})`)
    }
    const st = statSync(path)
    if (!st.isFile() || st.size > MAX_TEMPLATE_BYTES) {
      throw new TemplateError(`ui.templatePath: ${path} must be a file of at most ${MAX_TEMPLATE_BYTES} bytes`)
    }
    const html = readFileSync(path, 'utf8')
    if (block) out.blocks[block] = html.replaceAll('{{site_name}}', escapeHtml(siteName))
    else out.proxyPages[status] = html
  }
  return out
}
