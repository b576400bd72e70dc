// The job script: the scheduler's template (or the operator's) with its placeholders filled, and the
// run step every job ends with: pick a free port on the compute node, report it to the hub
// (POST /hub/api/batchspawner with the server's own token, as batchspawner's wrapper does), then
// start the server on it. No secret is ever written into the script: the token travels in the
// job's environment only.

/**
 * Fills `{name}` placeholders with `vars`; a line that starts with `{?name}` is kept (without that
 * mark) only when vars[name] is set, not empty and not '0'. An unknown placeholder is an error
 * naming it, so a typo in a template fails the start instead of reaching the scheduler.
 */
export function fillTemplate(template: string, vars: Record<string, string>): string {
  const lines: string[] = []
  for (const line of template.split('\n')) {
    const cond = /^\{\?([a-z_]+)\}/.exec(line)
    if (cond) {
      if (!(cond[1] in vars)) throw new Error(`unknown placeholder {?${cond[1]}} in the job template`)
      const v = vars[cond[1]]
      if (!v || v === '0') continue
      lines.push(line.slice(cond[0].length))
    } else lines.push(line)
  }
  return lines.join('\n').replace(/\{([a-z_]+)\}/g, (whole, name: string) => {
    if (!(name in vars)) throw new Error(`unknown placeholder ${whole} in the job template`)
    return vars[name]
  })
}

/** One word for bash: single-quoted, with `'` written as '\''. */
export const shellWord = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`

/** A server argument for bash, where {port} becomes the port the job picked ("$EDGEHUB_PORT"). */
const serverArg = (arg: string): string =>
  arg
    .split('{port}')
    .map((part) => (part ? shellWord(part) : "''"))
    .join('"$EDGEHUB_PORT"')

/** Picks a free TCP port on the compute node (bound then released, as batchspawner's random_port). */
const PICK_PORT = `import socket
s = socket.socket()
s.bind(("", 0))
print(s.getsockname()[1])`

/**
 * Reports the port to the hub: POST EDGEHUB_REPORT_URL {"port", "user", "server"} with the server's
 * token. A refusal (4xx) ends the job; an unreachable hub is tried again for about a minute.
 */
const REPORT = `import json, os, sys, time, urllib.error, urllib.request
body = json.dumps({"port": int(sys.argv[1]), "user": os.environ.get("JUPYTERHUB_USER", ""),
                   "server": os.environ.get("JUPYTERHUB_SERVER_NAME", "")}).encode()
req = urllib.request.Request(os.environ["EDGEHUB_REPORT_URL"], data=body, method="POST", headers={
    "Authorization": "token " + os.environ["JUPYTERHUB_API_TOKEN"], "Content-Type": "application/json"})
for attempt in range(30):
    try:
        urllib.request.urlopen(req, timeout=10).read()
        sys.exit(0)
    except urllib.error.HTTPError as e:
        if e.code < 500:
            sys.exit("the hub refused the report of the server's port: HTTP %d" % e.code)
    except OSError as e:
        print("reporting the port to the hub failed (%s); trying again" % e, file=sys.stderr)
    time.sleep(2)
sys.exit("could not report the server's port to the hub")`

/**
 * The job's last lines: the port, the report, the server's address for jupyterhub-singleuser
 * (JUPYTERHUB_SERVICE_URL), then the server itself in place of the shell (exec), so that the
 * scheduler's signals reach it.
 */
export function runStep(opts: { python: string; command: string[]; ip: string; baseUrl: string }): string {
  const py = shellWord(opts.python)
  const url = `http://${opts.ip.includes(':') ? `[${opts.ip}]` : opts.ip}:`
  return [
    `EDGEHUB_PORT=$(${py} -c ${shellWord(PICK_PORT)})`,
    `${py} -c ${shellWord(REPORT)} "$EDGEHUB_PORT"`,
    `export JUPYTERHUB_SERVICE_URL=${shellWord(url)}"$EDGEHUB_PORT"${shellWord(opts.baseUrl)}`,
    `exec ${opts.command.map(serverArg).join(' ')}`,
  ].join('\n')
}
