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

/** The spawner config that runs OK_SERVER as every user's server. */
export const okServerSpawner = () => ({
  'local-process': { command: ['python3', '-c', OK_SERVER], args: ['{ip}', '{port}'] },
})
