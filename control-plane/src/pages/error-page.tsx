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

/** An error page; `link` is where to go from here (the home page unless told). */
export function ErrorPage(props: {
  status: number
  message: string
  user?: { name: string; admin: boolean } | null
  link?: string
}) {
  const title = TITLES[props.status] ?? 'Error'
  return (
    <Layout title={`${props.status} ${title}`} user={props.user}>
      <div class="card">
        <h1>
          {props.status} · {title}
        </h1>
        <p>{props.message}</p>
        <p class="muted">
          {props.link && props.link !== '/hub/home' ? (
            <a href={props.link}>Go to {props.link}</a>
          ) : (
            <a href="/hub/home">Back to your home page</a>
          )}
        </p>
      </div>
    </Layout>
  )
}
