// The job script: placeholders, conditional lines, the run step as bash (checked with bash -n and
// run for real against a small report receiver), and each scheduler's template rendered in full.
import { execFileSync, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { fillTemplate, runStep, shellWord } from './template'
import { waitFor } from '../../../runtime/src/wait'
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

  /** A stand-in hub that records the reports it gets. */
  async function reportReceiver() {
    const received: Array<{ auth?: string; body: string }> = []
    const hub = createServer((req, res) => {
      let body = ''
      req.on('data', (b) => (body += b))
      req.on('end', () => {
        received.push({ auth: req.headers.authorization, body })
        res.writeHead(201).end('{}')
      })
    })
    await new Promise<void>((r) => hub.listen(0, '127.0.0.1', r))
    return { received, url: `http://127.0.0.1:${(hub.address() as AddressInfo).port}/hub/api/batchspawner`, hub }
  }
  const env = (reportUrl: string) => ({
    PATH: process.env.PATH,
    JUPYTERHUB_API_TOKEN: 'secret-token',
    JUPYTERHUB_USER: "o'neil",
    JUPYTERHUB_SERVER_NAME: '',
    EDGEHUB_REPORT_URL: reportUrl,
  })
  /** A server that listens on the port it is given and says where, until it is killed. */
  const LISTENER = [
    'python3',
    '-c',
    'import os, socket, sys, time\ns = socket.socket()\ns.bind(("127.0.0.1", int(sys.argv[1])))\ns.listen()\nprint(sys.argv[1], os.environ["JUPYTERHUB_SERVICE_URL"], flush=True)\ntime.sleep(120)',
    '{port}',
  ]

  it('picks a port, runs the command with {port} filled, and reports the port once that server listens on it', async () => {
    const r = await reportReceiver()
    const script = runStep({ python: 'python3', command: LISTENER, ip: '0.0.0.0', baseUrl: "/user/o'neil/" })
    execFileSync('bash', ['-n', '-c', script]) // valid bash
    expect(script).not.toContain('secret-token')
    const job = spawn('bash', ['-c', `set -eu\n${script}`], { env: env(r.url) })
    try {
      let out = ''
      job.stdout.on('data', (b) => (out += b))
      await waitFor('the report', () => r.received.length > 0, { timeoutMs: 20_000 })
      const m = /^(\d+) http:\/\/0\.0\.0\.0:(\d+)\/user\/o'neil\/$/.exec(out.trim())
      expect(m, out).not.toBeNull()
      expect(m![1]).toBe(m![2])
      expect(r.received[0].auth).toBe('token secret-token')
      expect(JSON.parse(r.received[0].body)).toEqual({ port: Number(m![1]), user: "o'neil", server: '' })
    } finally {
      job.kill('SIGKILL')
      r.hub.close()
    }
  })

  it("reports nothing when the port's listener is another process, and gives up when the server exits", async () => {
    const r = await reportReceiver()
    // someone else (another job on the node) listens on the port the job picked
    const other = createServer()
    await new Promise<void>((ok) => other.listen(0, '127.0.0.1', ok))
    const port = (other.address() as AddressInfo).port
    // the "server" never listens: a process that only waits
    const server = spawn('sleep', ['60'])
    const report = /const REPORT = `([\s\S]*?)`\n/.exec(
      readFileSync(join(import.meta.dirname, 'template.ts'), 'utf8'),
    )![1]
    const reporter = spawn('python3', ['-c', report, String(port), String(server.pid)], { env: env(r.url) })
    let err = ''
    reporter.stderr.on('data', (b) => (err += b))
    const code = new Promise<number | null>((ok) => reporter.on('exit', ok))
    try {
      // it has looked at the port, found another process's listener there, and waits
      await waitFor('the reporter to be waiting', () => /waiting for the server/.test(err), { timeoutMs: 10_000 })
      expect(r.received).toEqual([])
      // once the server is gone it gives up, having reported nothing
      server.kill('SIGKILL')
      expect(await code).toBe(1)
      expect(err).toMatch(/exited before it listened on port \d+: nothing reported/)
      expect(r.received).toEqual([])
    } finally {
      server.kill('SIGKILL')
      reporter.kill('SIGKILL')
      other.close()
      r.hub.close()
    }
  })
})
