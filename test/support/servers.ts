// Stand-ins for single-user servers in tests that need a server to route to but not Jupyter.

/** A Python HTTP server that answers 200 "ok" to every GET; args: ip, port. */
export const OK_SERVER = `
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), H).serve_forever()
`

/** A Python HTTP server that answers every GET with 200 and its environment variable `name`; args: ip, port. */
export const envServer = (name: string) => `
import http.server, os, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(os.environ.get(${JSON.stringify(name)}, "").encode())
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), H).serve_forever()
`

/** The spawner config that runs OK_SERVER as every user's server. */
export const okServerSpawner = () => ({
  'local-process': { command: ['python3', '-c', OK_SERVER], args: ['{ip}', '{port}'] },
})

/** A Python HTTP server that answers every GET with JSON {path, headers}: what it was sent; args: ip, port. */
export const ECHO_SERVER = `
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), H).serve_forever()
`

/** The spawner config that runs ECHO_SERVER as every user's server. */
export const echoSpawner = () => ({
  'local-process': { command: ['python3', '-c', ECHO_SERVER], args: ['{ip}', '{port}'] },
})

/**
 * The spawner config of a stand-in server (OK_SERVER, or another taking ip and port) that starts
 * listening only once the gate file exists: its spawn stays pending until the test opens the gate.
 * The gate's path may hold {user} (a gate per user); it must be readable by the users' accounts.
 */
export const gatedSpawner = (gateFile: string, server = OK_SERVER) => ({
  'local-process': {
    command: [
      'sh',
      '-c',
      'while [ ! -e "$2" ]; do sleep 0.05; done; exec python3 -c "$1" "$3" "$4"',
      'gated-server',
      server,
    ],
    args: [gateFile, '{ip}', '{port}'],
  },
})
