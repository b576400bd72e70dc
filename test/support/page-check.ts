// What every browser test of a page does besides its own assertions: an accessibility scan with
// axe-core (WCAG 2.1 A and AA rules) run inside the page, and a screenshot kept as a test artifact.
import { mkdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..')

/** Where screenshots go: .test-runs/screenshots (ignored by git), or EDGEHUB_SCREENSHOTS. */
export const SCREENSHOT_DIR = process.env.EDGEHUB_SCREENSHOTS ?? join(ROOT, '.test-runs/screenshots')

let axeSource: string | undefined
function axe(): string {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')
  return axeSource
}

export interface AxeViolation {
  id: string
  impact: string | null
  help: string
  targets: string[]
}

/**
 * Runs axe-core in the page and returns the violations at or above `minImpact` ('serious' by
 * default: serious and critical). Each names its rule, what it asks for and the elements at fault,
 * so a failing `expect(violations).toEqual([])` says what to fix.
 */
export async function accessibilityViolations(
  page: Page,
  minImpact: 'minor' | 'moderate' | 'serious' | 'critical' = 'serious',
): Promise<AxeViolation[]> {
  const order = ['minor', 'moderate', 'serious', 'critical']
  // Evaluated as source text: the test runs in Node (no DOM types); the page has axe as a global.
  if (!(await page.evaluate("typeof window.axe === 'object'"))) await page.addScriptTag({ content: axe() })
  const results = await page.evaluate(`window.axe
    .run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
    .then((r) => r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')),
    })))`)
  return (results as AxeViolation[]).filter((v) => order.indexOf(v.impact ?? 'minor') >= order.indexOf(minImpact))
}

/** Saves a full-page screenshot as SCREENSHOT_DIR/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true })
  const path = join(SCREENSHOT_DIR, `${name.replace(/[^A-Za-z0-9._-]+/g, '-')}.png`)
  await page.screenshot({ path, fullPage: true })
  return path
}
