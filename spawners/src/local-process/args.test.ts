import { describe, expect, it } from 'vitest'
import { defaultArgs, fill, runsSingleuser } from './args'

describe('default args of local-process servers', () => {
  it("jupyterhub-singleuser gets no flags, as JupyterHub starts it: no --notebook-dir over a wrapper's directory", () => {
    expect(defaultArgs(['jupyterhub-singleuser'])).toEqual([])
    expect(defaultArgs(['/usr/bin/jupyterhub-singleuser'], { defaultUrl: true })).toEqual([])
    expect(defaultArgs(['sh', '-c', 'cd ~/work && exec jupyterhub-singleuser "$@"', 'sh'])).toEqual([])
    expect(defaultArgs(['/usr/local/bin/start-singleuser.sh'])).toEqual([])
    expect(runsSingleuser(['jupyter', 'notebook'])).toBe(false)
  })

  it('the classic notebook and jupyter server get their address, root, base URL and, when set, the landing page', () => {
    const notebook = defaultArgs(['jupyter', 'notebook'])
    expect(notebook).toEqual(
      expect.arrayContaining([
        '--ip={ip}',
        '--port={port}',
        '--notebook-dir={notebook_dir}',
        '--NotebookApp.base_url={base_url}',
      ]),
    )
    expect(notebook.some((a) => a.includes('default_url'))).toBe(false)
    expect(defaultArgs(['jupyter-notebook'], { defaultUrl: true })).toContain('--NotebookApp.default_url={default_url}')
    const server = defaultArgs(['jupyter', 'server'], { defaultUrl: true })
    expect(server).toContain('--ServerApp.base_url={base_url}')
    expect(server).toContain('--ServerApp.default_url={default_url}')
    expect(server.some((a) => a.includes('NotebookApp'))).toBe(false)
  })

  it('fills placeholders and leaves unknown ones', () => {
    expect(fill('--port={port} {nope}', { port: '20001' })).toBe('--port=20001 {nope}')
  })
})
