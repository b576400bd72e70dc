/** A response body as JSON, untyped: tests assert on its shape. */
export const json = (r: Response): Promise<any> => r.json()

// A minimal HTTP client with a cookie jar, for talking to the stack like a browser (no redirects followed).

export class Client {
  readonly jar = new Map<string, string>()
  constructor(
    readonly base: string,
    private readonly fetcher: (url: string, init: RequestInit) => Response | Promise<Response> = fetch,
  ) {}

  cookieHeader(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ')
  }

  async request(
    path: string,
    init: Omit<RequestInit, 'headers'> & { headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...(init.headers ?? {}) }
    if (this.jar.size && !headers.cookie) headers.cookie = this.cookieHeader()
    const res = await this.fetcher(this.base + path, { ...init, headers, redirect: 'manual' })
    for (const sc of res.headers.getSetCookie()) {
      const [pair, ...attrs] = sc.split(';')
      const i = pair.indexOf('=')
      const name = pair.slice(0, i).trim()
      const value = pair.slice(i + 1).trim()
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === ''
      if (expired) this.jar.delete(name)
      else this.jar.set(name, value)
    }
    return res
  }

  get(path: string, headers: Record<string, string> = {}) {
    return this.request(path, { headers })
  }

  /** Posts a form with the XSRF field taken from the jar (fetching a page first when needed). */
  async postForm(path: string, fields: Record<string, string>): Promise<Response> {
    if (!this.jar.has('edgehub-xsrf')) await (await this.get('/hub/login')).text()
    const body = new URLSearchParams({ _xsrf: this.jar.get('edgehub-xsrf') ?? '', ...fields })
    return this.request(path, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
  }

  async login(username: string, password: string): Promise<Response> {
    const res = await this.postForm('/hub/login', { username, password })
    await res.text()
    return res
  }

  /** A cookie-authenticated API call (sends X-XSRFToken as JupyterHub's frontend does). */
  api(method: string, path: string, body?: unknown): Promise<Response> {
    return this.request(`/hub/api${path}`, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: {
        'x-xsrftoken': this.jar.get('edgehub-xsrf') ?? '',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
    })
  }
}
