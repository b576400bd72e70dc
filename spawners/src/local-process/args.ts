// The flags a server command gets when spawner.local-process.args is not set, and the placeholders
// args may hold. jupyterhub-singleuser gets none, as JupyterHub 2 and later start it: it reads its
// address, base URL, root directory and landing page from JUPYTERHUB_* (jupyterhub-env.ts), and a
// wrapper that changes directory before running it keeps that directory as the server's root.
// `jupyter notebook` and `jupyter server` know nothing of JupyterHub and get those as flags.

/** jupyterhub-singleuser, or a wrapper named for it (docker-stacks' start-singleuser.sh, `sh -c '… jupyterhub-singleuser'`). */
export const runsSingleuser = (command: string[]): boolean =>
  command.some((c) => /jupyterhub-singleuser|start-singleuser/.test(c))

/** The classic notebook (NotebookApp) rather than jupyter_server (ServerApp). */
const runsNotebook = (command: string[]): boolean =>
  command.some((c) => c === 'notebook' || c.endsWith('jupyter-notebook'))

/** Flags for a command when args is unset; placeholders as in `fill`. */
export function defaultArgs(command: string[], opts: { defaultUrl?: boolean } = {}): string[] {
  if (runsSingleuser(command)) return []
  const app = runsNotebook(command) ? 'NotebookApp' : 'ServerApp'
  return [
    '--no-browser',
    '--ip={ip}',
    '--port={port}',
    '--notebook-dir={notebook_dir}',
    `--${app}.base_url={base_url}`,
    `--${app}.allow_remote_access=True`,
    ...(opts.defaultUrl ? [`--${app}.default_url={default_url}`] : []),
  ]
}

/** `s` with each {name} of vars replaced; unknown names are left as they are. */
export const fill = (s: string, vars: Record<string, string>): string =>
  s.replace(/\{(\w+)\}/g, (m, k: string) => vars[k] ?? m)
