// The job script: placeholders, conditional lines, the run step as bash (checked with bash -n and
// run for real against a small report receiver), and each scheduler's template rendered in full.
import { execFileSync, spawn } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { fillTemplate, runStep, shellWord } from './template'
import { SLURM_TEMPLATE } from './slurm'
import { PBS_TEMPLATE } from './pbs'
import { LSF_TEMPLATE } from './lsf'
import { SGE_TEMPLATE } from './sge'
import { CONDOR_TEMPLATE } from './condor'

const VARS = {
  job_name: 'edgehub-alice',
  homedir: '/home/alice',
  username: 'alice',
  partition: 'gpu',
  account: '',
  walltime: '08:00:00',
  walltime_hm: '08:00',
  walltime_seconds: '28800',
  memory_mb: '4096',
  cores: '4',
  parallel_cores: '4',
  gpus: '0',
  run: 'exec jupyterhub-singleuser',
}

describe('fillTemplate', () => {
  it('fills placeholders and keeps a {?NAME} line only when NAME is set and not 0', () => {
    const out = fillTemplate(
      '#A {job_name}\n{?partition}#P {partition}\n{?account}#A {account}\n{?gpus}#G {gpus}\n{run}',
      VARS,
    )
    expect(out).toBe('#A edgehub-alice\n#P gpu\nexec jupyterhub-singleuser')
  })

  it('refuses an unknown placeholder, naming it', () => {
    expect(() => fillTemplate('#X {walltme}', VARS)).toThrow(/\{walltme\}/)
    expect(() => fillTemplate('{?gpu}#G', VARS)).toThrow(/\{\?gpu\}/)
  })

  it("renders every scheduler's template with no placeholder left", () => {
    for (const t of [SLURM_TEMPLATE, PBS_TEMPLATE, LSF_TEMPLATE, SGE_TEMPLATE, CONDOR_TEMPLATE]) {
      const out = fillTemplate(t, VARS)
      expect(out).not.toMatch(/\{[?a-z_]+\}/)
      expect(out).toContain('edgehub-alice')
    }
    expect(fillTemplate(SLURM_TEMPLATE, VARS)).toContain('#SBATCH --partition=gpu\n')
    expect(fillTemplate(SLURM_TEMPLATE, VARS)).not.toContain('--gres')
    expect(fillTemplate(SLURM_TEMPLATE, { ...VARS, gpus: '2' })).toContain('#SBATCH --gres=gpu:2\n')
  })
})

describe('runStep', () => {
  it('quotes words for bash, quotes included', () => {
    expect(execFileSync('bash', ['-c', `printf %s ${shellWord("it's $HOME `x`")}`], { encoding: 'utf8' })).toBe(
      "it's $HOME `x`",
    )
  })

  it('picks a port, reports it with the token from the environment, and runs the command with {port} filled', async () => {
    let received: { auth?: string; body: string } | undefined
    const hub = createServer((req, res) => {
      let body = ''
      req.on('data', (b) => (body += b))
      req.on('end', () => {
        received = { auth: req.headers.authorization, body }
        res.writeHead(201).end('{}')
      })
    })
    await new Promise<void>((r) => hub.listen(0, '127.0.0.1', r))
    try {
      const port = (hub.address() as AddressInfo).port
      const script = runStep({
        python: 'python3',
        command: ['sh', '-c', 'echo "$0 $JUPYTERHUB_SERVICE_URL"', 'port={port}'],
        ip: '0.0.0.0',
        baseUrl: "/user/o'neil/",
      })
      execFileSync('bash', ['-n', '-c', script]) // valid bash
      expect(script).not.toContain('secret-token')
      const out = await new Promise<string>((resolve, reject) => {
        const p = spawn('bash', ['-c', `set -eu\n${script}`], {
          env: {
            PATH: process.env.PATH,
            JUPYTERHUB_API_TOKEN: 'secret-token',
            JUPYTERHUB_USER: "o'neil",
            JUPYTERHUB_SERVER_NAME: '',
            EDGEHUB_REPORT_URL: `http://127.0.0.1:${port}/hub/api/batchspawner`,
          },
        })
        let s = ''
        p.stdout.on('data', (b) => (s += b))
        p.on('exit', (code) => (code === 0 ? resolve(s) : reject(new Error(`exit ${code}`))))
      })
      const m = /^port=(\d+) http:\/\/0\.0\.0\.0:(\d+)\/user\/o'neil\/$/.exec(out.trim())
      expect(m).not.toBeNull()
      expect(m![1]).toBe(m![2])
      expect(received?.auth).toBe('token secret-token')
      expect(JSON.parse(received!.body)).toEqual({ port: Number(m![1]), user: "o'neil", server: '' })
    } finally {
      hub.close()
    }
  })
})
