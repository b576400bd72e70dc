import { Layout } from './layout'

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Not logged in',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  500: 'Internal error',
  503: 'Service unavailable',
}

export function ErrorPage(props: { status: number; message: string; user?: { name: string; admin: boolean } | null }) {
  const title = TITLES[props.status] ?? 'Error'
  return (
    <Layout title={`${props.status} ${title}`} user={props.user}>
      <div class="card">
        <h1>
          {props.status} · {title}
        </h1>
        <p>{props.message}</p>
        <p class="muted">
          <a href="/hub/home">Back to your home page</a>
        </p>
      </div>
    </Layout>
  )
}
