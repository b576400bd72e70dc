// The spawn page's options form (JupyterHub's spawn.html with an options_form): the profiles the
// spawner offers this user, each with its further choices, posted back to /hub/spawn/OWNER[/SERVER].
// Works without JavaScript: each profile's choices carry the profile in their field names, and only
// the chosen profile's are read (optionsFromForm), so the other profiles' selects change nothing.
import type { Json, OptionsForm } from '../../../spawners/src'
import { Layout, XsrfField } from './layout'

/** The field of a profile's option on this page; user_options name it `profile-option-NAME`. */
const choiceField = (profile: string, option: string) => `profile-option-${profile}--${option}`

/**
 * The user_options a submitted form asks for (JupyterHub's options_from_form): the chosen profile and
 * its own choices; fields of other profiles are dropped. undefined when the form was not this page's
 * (no `profile` field): a plain start button, which shows the form first.
 */
export function optionsFromForm(
  fields: Record<string, string>,
  offered: OptionsForm,
): { [k: string]: Json } | undefined {
  const profile = fields.profile
  if (profile === undefined) return undefined
  const out: { [k: string]: Json } = { profile }
  const chosen = offered.profiles.find((p) => p.slug === profile)
  for (const option of chosen?.options ?? []) {
    const value = fields[choiceField(profile, option.name)]
    if (value !== undefined) out[`profile-option-${option.name}`] = value
  }
  return out // checked by the spawner against what was offered (a forged field is a 400 naming it)
}

export function SpawnOptionsPage(p: {
  xsrf: string
  user: { name: string; admin: boolean }
  owner: string
  server: string
  form: OptionsForm
  /** Where to go once the server is ready (a local path), '' for the server. */
  next: string
  /** Why the last choice was refused (a 400 naming the field). */
  error?: string
  /** The choice to show selected again after an error. */
  chosen?: string
}) {
  const mine = p.owner === p.user.name
  const what = p.server ? `server ${p.server}` : 'server'
  const action =
    `/hub/spawn/${encodeURIComponent(p.owner)}${p.server ? `/${encodeURIComponent(p.server)}` : ''}` +
    (p.next ? `?next=${encodeURIComponent(p.next)}` : '')
  const selected = p.form.profiles.find((x) => x.slug === p.chosen) ?? p.form.profiles.find((x) => x.default)
  return (
    <Layout title="Server options" user={p.user}>
      <div class="card">
        <h1>{mine ? `Start your ${what}` : `Start ${p.owner}'s ${what}`}</h1>
        {p.error ? (
          <div class="error" id="error">
            {p.error}
          </div>
        ) : null}
        {p.form.profiles.length === 0 ? (
          <p id="no-profiles">
            No server profile is offered to {mine ? 'you' : p.owner}. An administrator decides which groups get which
            profiles.
          </p>
        ) : (
          <form method="post" action={action} id="spawn-form">
            <XsrfField value={p.xsrf} />
            <fieldset style="border:0;padding:0;margin:0">
              <legend class="muted">Choose a server profile</legend>
              {p.form.profiles.map((profile) => (
                <div class="card" style="padding:1rem 1.2rem;margin:.6rem 0">
                  <label style="margin:0">
                    <input
                      type="radio"
                      name="profile"
                      value={profile.slug}
                      id={`profile-${profile.slug}`}
                      checked={profile === selected}
                    />{' '}
                    {profile.displayName}
                  </label>
                  {profile.description ? <p class="muted">{profile.description}</p> : null}
                  {profile.options.map((option) => (
                    <>
                      <label for={choiceField(profile.slug, option.name)}>{option.displayName}</label>
                      <select id={choiceField(profile.slug, option.name)} name={choiceField(profile.slug, option.name)}>
                        {option.choices.map((choice) => (
                          <option value={choice.slug} selected={choice.default}>
                            {choice.displayName}
                          </option>
                        ))}
                      </select>
                    </>
                  ))}
                </div>
              ))}
            </fieldset>
            <button id="start" type="submit">
              Start
            </button>
          </form>
        )}
      </div>
    </Layout>
  )
}
