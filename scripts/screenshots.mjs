// Regenerates the gallery in docs/screenshots: runs the browser tests that photograph every page
// (light, dark, phone) and the branding, into a folder of their own, then copies a selection.
// Usage: npm run screenshots
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, unlinkSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const SHOTS = join(ROOT, '.test-runs/gallery')
const GALLERY = join(ROOT, 'docs/screenshots')

/** The gallery: file name in docs/screenshots <- screenshot name of the tests. */
export const SELECTION = [
  'page-login-light',
  'page-login-dark',
  'page-login-phone',
  'page-home-light',
  'page-home-dark',
  'page-spawn-options-light',
  'page-spawn-pending-light',
  'page-token-light',
  'page-token-dark',
  'page-two-factor-light',
  'page-sharing-light',
  'page-accept-share-light',
  'page-admin-light',
  'page-admin-dark',
  'page-admin-phone',
  'page-admin-user-light',
  'page-admin-groups-light',
  'page-admin-hub-light',
  'page-not-found-dark',
  'page-proxy-forbidden-light',
  'page-proxy-hub-down-dark',
  'branding-login',
  'branding-home-dark-toggle',
  'branding-proxy-503',
]

rmSync(SHOTS, { recursive: true, force: true })
const run = spawnSync(
  'npx',
  ['vitest', 'run', 'test/e2e/browser/accessibility-pages.test.ts', 'test/e2e/browser/branding-pages.test.ts'],
  { cwd: ROOT, stdio: 'inherit', env: { ...process.env, EDGEHUB_SCREENSHOTS: SHOTS } },
)
if (run.status !== 0) {
  console.error('screenshots: the browser tests failed; docs/screenshots is left as it was')
  process.exit(1)
}
const missing = SELECTION.filter((name) => !existsSync(join(SHOTS, `${name}.png`)))
if (missing.length) {
  console.error(`screenshots: not taken: ${missing.join(', ')}`)
  process.exit(1)
}
mkdirSync(GALLERY, { recursive: true })
for (const f of readdirSync(GALLERY)) if (f.endsWith('.png')) unlinkSync(join(GALLERY, f))
let total = 0
for (const name of SELECTION) {
  copyFileSync(join(SHOTS, `${name}.png`), join(GALLERY, `${name}.png`))
  total += statSync(join(GALLERY, `${name}.png`)).size
}
console.log(`screenshots: ${SELECTION.length} files, ${(total / 1024 / 1024).toFixed(2)} MB in docs/screenshots`)
