// The Helm chart's renderer for the tests: deploy/helm/render (Go's text/template + sprig + the helm
// functions the chart uses), built once per run with Debian's Go and its packaged sprig
// (golang-go, golang-github-masterminds-sprig-dev: scripts/install-deps.sh --test), then run on the
// chart with a values file. deploy/helm/README.md says why this and not helm.
import { execFile, spawnSync } from 'node:child_process'
import { promisify } from 'node:util'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { ROOT } from '../../support/stack'

export const CHART = join(ROOT, 'deploy/helm/edgehub')
const SOURCE = join(ROOT, 'deploy/helm/render')

export interface Manifest {
  apiVersion: string
  kind: string
  metadata: { name: string; namespace?: string; labels?: Record<string, string> }
  [field: string]: unknown
}

/** Builds the renderer into a fresh temporary folder; its path. Go's build cache makes later builds fast. */
export function buildRenderer(): string {
  const dir = mkdtempSync(join(tmpdir(), 'edgehub-helm-render-'))
  const out = join(dir, 'helm-render')
  const go = spawnSync('go', ['build', '-o', out, '.'], {
    cwd: SOURCE,
    encoding: 'utf8',
    env: { ...process.env, GOPATH: '/usr/share/gocode', GO111MODULE: 'off', GOFLAGS: '', CGO_ENABLED: '0' },
  })
  if (go.error)
    throw new Error(
      `go is not installed (apt-get install golang-go golang-github-masterminds-sprig-dev): ${go.error.message}`,
    )
  if (go.status !== 0) throw new Error(`building deploy/helm/render failed:\n${go.stderr}`)
  return out
}

/** The chart rendered with `valuesFile` over its values.yaml: the manifests, or the renderer's error. */
export function render(
  renderer: string,
  valuesFile: string,
  namespace = 'edgehub',
): { manifests: Manifest[]; text: string } | { error: string } {
  const r = spawnSync(renderer, ['-f', valuesFile, '--name', 'edgehub', '--namespace', namespace, CHART], {
    encoding: 'utf8',
  })
  if (r.status !== 0) return { error: r.stderr.trim() }
  const manifests = parseAllDocuments(r.stdout)
    .map((d) => {
      if (d.errors.length) throw new Error(`rendered YAML does not parse: ${d.errors[0]?.message}`)
      return d.toJS() as Manifest | null
    })
    .filter((m): m is Manifest => m !== null)
  return { manifests, text: r.stdout }
}

/** The values files of test/e2e/deploy/values/, by name without .yaml. */
export function valuesFiles(): Record<string, string> {
  const dir = join(ROOT, 'test/e2e/deploy/values')
  return Object.fromEntries(
    readdirSync(dir)
      .filter((f) => f.endsWith('.yaml') && statSync(join(dir, f)).isFile())
      .map((f) => [f.replace(/\.yaml$/, ''), join(dir, f)]),
  )
}

/** `edgehub config check` on a file: its exit status and output (stderr first). */
export async function configCheck(file: string): Promise<{ status: number; output: string }> {
  const cwd = mkdtempSync(join(tmpdir(), 'edgehub-config-check-'))
  mkdirSync(join(cwd, 'data'), { recursive: true })
  try {
    const { stdout } = await promisify(execFile)(
      'node',
      [join(ROOT, 'bin/edgehub.js'), 'config', 'check', '--config', file],
      {
        cwd,
        encoding: 'utf8',
        env: { ...process.env, EDGEHUB_DATA_DIR: join(cwd, 'data') },
      },
    )
    return { status: 0, output: stdout }
  } catch (err) {
    const e = err as { code?: number; stderr?: string; stdout?: string }
    return { status: typeof e.code === 'number' ? e.code : 1, output: `${e.stderr ?? ''}${e.stdout ?? ''}` }
  } finally {
    rmSync(cwd, { recursive: true, force: true })
  }
}
