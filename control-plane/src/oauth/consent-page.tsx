// "<client> would like to…": the page a user sees before a server or service they do not own gets
// a token for them.
import { Layout, XsrfField } from '../pages/layout'

export function ConsentPage(props: {
  user: { name: string; admin: boolean }
  client: string
  scopes: string[]
  params: Record<string, string>
  xsrf: string
}) {
  return (
    <Layout title="Authorize access" user={props.user}>
      <div class="card">
        <h1>Authorize access</h1>
        <p>
          <strong>{props.client}</strong> would like to act on your behalf, signed in as{' '}
          <strong>{props.user.name}</strong>, with these permissions:
        </p>
        <ul>
          {props.scopes.map((s) => (
            <li>
              <code>{s}</code>
            </li>
          ))}
        </ul>
        <form method="post">
          <XsrfField value={props.xsrf} />
          {Object.entries(props.params).map(([k, v]) => (
            <input type="hidden" name={k} value={v} />
          ))}
          <button type="submit">Authorize</button>
        </form>
      </div>
    </Layout>
  )
}
