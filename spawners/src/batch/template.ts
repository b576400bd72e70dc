// The job script: the scheduler's template (or the operator's) with its placeholders filled, and the
// run step every job ends with: pick a free port on the compute node, start the server on it, and
// report it to the hub once the server listens there (POST /hub/api/batchspawner with the server's
// own token, as batchspawner's wrapper does). No secret is ever written into the script: the token travels in the
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
 * Reports the port to the hub once the server itself listens on it: POST EDGEHUB_REPORT_URL
 * {"port", "user", "server"} with the server's token. Run in the background beside the server with
 * its pid; it waits until a listening socket on the port belongs to that process or one of its
 * descendants (Linux /proc),
 * so another job on the node that grabbed the port meanwhile never gets the route, nor, through the
 * hub's readiness check and the proxy, the server's token. It gives up when the server exits first.
 * A refusal (4xx) ends the job's report; an unreachable hub is tried again for about a minute.
 */
const REPORT = `import json, os, sys, time, urllib.error, urllib.request
port, pid = int(sys.argv[1]), int(sys.argv[2])

def listening_inodes():
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    cols = line.split()
                    if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                        found.add(cols[9])
        except OSError:
            pass
    return found

def server_tree():
    """The server's pid and its descendants (a wrapper script may start the real server as a child)."""
    parent = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    parent[int(d)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    tree, grew = {pid}, True
    while grew:
        more = {p for p, pp in parent.items() if pp in tree and p not in tree}
        tree |= more
        grew = bool(more)
    return tree

def server_listens():
    os.stat("/proc/%d" % pid)  # FileNotFoundError once the server has exited
    inodes = listening_inodes()
    if not inodes:
        return False
    for p in server_tree():
        try:
            fds = os.listdir("/proc/%d/fd" % p)
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink("/proc/%d/fd/%s" % (p, fd))
            except OSError:
                continue
            if link.startswith("socket:[") and link[8:-1] in inodes:
                return True
    return False

deadline = time.time() + 3600
said = False
while True:
    try:
        if server_listens():
            break
    except FileNotFoundError:
        sys.exit("the server exited before it listened on port %d: nothing reported" % port)
    if time.time() > deadline:
        sys.exit("the server did not listen on port %d within an hour: nothing reported" % port)
    if not said:
        print("waiting for the server (pid %d) to listen on port %d" % (pid, port), file=sys.stderr, flush=True)
        said = True
    time.sleep(0.2)

body = json.dumps({"port": port, "user": os.environ.get("JUPYTERHUB_USER", ""),
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
 * The job's last lines: the port, the server's address for jupyterhub-singleuser
 * (JUPYTERHUB_SERVICE_URL), the reporter in the background (it reports once this shell's pid,
 * which the server takes over, listens on the port), then the server itself in place of the shell
 * (exec), so that the scheduler's signals reach it.
 */
export function runStep(opts: { python: string; command: string[]; ip: string; baseUrl: string }): string {
  const py = shellWord(opts.python)
  const url = `http://${opts.ip.includes(':') ? `[${opts.ip}]` : opts.ip}:`
  return [
    `EDGEHUB_PORT=$(${py} -c ${shellWord(PICK_PORT)})`,
    `export JUPYTERHUB_SERVICE_URL=${shellWord(url)}"$EDGEHUB_PORT"${shellWord(opts.baseUrl)}`,
    `${py} -c ${shellWord(REPORT)} "$EDGEHUB_PORT" "$$" &`,
    `exec ${opts.command.map(serverArg).join(' ')}`,
  ].join('\n')
}
