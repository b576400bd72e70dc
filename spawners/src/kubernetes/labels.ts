// The labels and annotations on every user pod: what the hub finds its pods by (its hub id, the
// user, the server, as escaped names that are valid label values) and the names as they are
// (annotations, which take any text). KubeSpawner's keys, so Zero to JupyterHub's tooling knows them.
import { objectName } from '../object-names'

export const LABEL_APP = 'app'
export const LABEL_COMPONENT = 'component'
export const LABEL_USER = 'hub.jupyter.org/username'
export const LABEL_SERVER = 'hub.jupyter.org/servername'
export const LABEL_HUB = 'edgehub.io/hub-id'
export const ANNOTATION_USER = 'hub.jupyter.org/username'
export const ANNOTATION_SERVER = 'hub.jupyter.org/servername'
export const ANNOTATION_HUB = 'edgehub.io/hub-id'
export const ANNOTATION_BASE_URL = 'edgehub.io/base-url'

/** The selector of every user pod of any hub in a namespace: what the shared informer watches. */
export const SERVER_PODS = `${LABEL_APP}=jupyterhub,${LABEL_COMPONENT}=singleuser-server`

/** A name as a label value: escaped, at most 63 characters (hashed beyond), '' stays ''. */
export const labelValue = (name: string): string =>
  name ? objectName('{username}', { username: name, servername: '' }) : ''

/** The selector of the pods started with hub id `hubId`. */
export const hubPods = (hubId: string): string => `${SERVER_PODS},${LABEL_HUB}=${labelValue(hubId)}`

export interface PodOwner {
  user: string
  server: string
  hubId: string
  baseUrl: string
}

export function podLabels(owner: PodOwner): Record<string, string> {
  return {
    [LABEL_APP]: 'jupyterhub',
    [LABEL_COMPONENT]: 'singleuser-server',
    heritage: 'jupyterhub',
    [LABEL_USER]: labelValue(owner.user),
    [LABEL_SERVER]: labelValue(owner.server),
    [LABEL_HUB]: labelValue(owner.hubId),
  }
}

export function podAnnotations(owner: PodOwner): Record<string, string> {
  return {
    [ANNOTATION_USER]: owner.user,
    [ANNOTATION_SERVER]: owner.server,
    [ANNOTATION_HUB]: owner.hubId,
    [ANNOTATION_BASE_URL]: owner.baseUrl,
  }
}
