// JupyterHub's scope vocabulary: the same names and hierarchy, so tokens and roles written for
// JupyterHub mean the same here. A scope grants its subscopes too.

export interface ScopeDefinition {
  description: string
  subscopes?: readonly string[]
}

export const SCOPES: Readonly<Record<string, ScopeDefinition>> = {
  '(no_scope)': { description: 'Identify the owner of the requesting entity.' },
  self: { description: 'Your own resources (users: their own user, servers, tokens, activity and shares).' },
  inherit: { description: 'Everything the owner of a token can do (tokens only).' },
  'admin-ui': { description: 'Access the admin page.' },
  'admin:users': {
    description: 'Read, modify, create and delete users and their authentication state, not their servers or tokens.',
    subscopes: ['admin:auth_state', 'users', 'read:roles:users', 'delete:users'],
  },
  'admin:auth_state': { description: "Read a user's authentication state." },
  users: {
    description: 'Read and write user models (not servers, tokens or authentication state).',
    subscopes: ['read:users', 'list:users', 'users:activity'],
  },
  'delete:users': { description: 'Delete users.' },
  'list:users': { description: 'List users, with at least their names.', subscopes: ['read:users:name'] },
  'read:users': {
    description: 'Read user models (with the URL of the default server if it runs).',
    subscopes: ['read:users:name', 'read:users:groups', 'read:users:activity'],
  },
  'read:users:name': { description: 'Read names of users.' },
  'read:users:groups': { description: "Read users' group membership." },
  'read:users:activity': { description: 'Read the time of last user activity.' },
  'read:roles': {
    description: 'Read role assignments.',
    subscopes: ['read:roles:users', 'read:roles:services', 'read:roles:groups'],
  },
  'read:roles:users': { description: 'Read user role assignments.' },
  'read:roles:services': { description: 'Read service role assignments.' },
  'read:roles:groups': { description: 'Read group role assignments.' },
  'users:activity': { description: 'Update the time of last user activity.', subscopes: ['read:users:activity'] },
  'admin:servers': {
    description: 'Read, start, stop, create and delete user servers and their state.',
    subscopes: ['admin:server_state', 'servers'],
  },
  'admin:server_state': { description: "Read and write users' server state." },
  servers: {
    description: 'Start and stop user servers.',
    subscopes: ['read:servers', 'start:servers', 'delete:servers'],
  },
  'read:servers': {
    description: "Read users' names and their server models (not the server state).",
    subscopes: ['read:users:name'],
  },
  'start:servers': { description: "Start users' servers." },
  'delete:servers': { description: "Stop and delete users' servers." },
  tokens: { description: 'Read, write, create and delete user tokens.', subscopes: ['read:tokens'] },
  'read:tokens': { description: 'Read user tokens.' },
  'admin:groups': {
    description: 'Read and write groups, create and delete groups.',
    subscopes: ['groups', 'read:roles:groups', 'delete:groups'],
  },
  groups: { description: 'Read and write groups, including their members.', subscopes: ['read:groups', 'list:groups'] },
  'list:groups': { description: 'List groups, with at least their names.', subscopes: ['read:groups:name'] },
  'read:groups': { description: 'Read group models.', subscopes: ['read:groups:name'] },
  'read:groups:name': { description: 'Read group names.' },
  'delete:groups': { description: 'Delete groups.' },
  'admin:services': {
    description: 'Create, read, update and delete services (not those from the config).',
    subscopes: ['list:services', 'read:services', 'read:roles:services'],
  },
  'list:services': { description: 'List services, with at least their names.', subscopes: ['read:services:name'] },
  'read:services': { description: 'Read service models.', subscopes: ['read:services:name'] },
  'read:services:name': { description: 'Read service names.' },
  'read:hub': { description: 'Read detailed information about the hub.' },
  'access:servers': { description: 'Access user servers through the API or a browser.' },
  'access:services': { description: 'Access services through the API or a browser.' },
  'users:shares': {
    description: "Read and revoke a user's access to shared servers.",
    subscopes: ['read:users:shares'],
  },
  'read:users:shares': { description: 'Read servers shared with a user.' },
  'groups:shares': {
    description: "Read and revoke a group's access to shared servers.",
    subscopes: ['read:groups:shares'],
  },
  'read:groups:shares': { description: 'Read servers shared with a group.' },
  'read:shares': { description: 'Read who has shared access to servers.' },
  shares: {
    description: 'Manage access to shared servers.',
    subscopes: ['access:servers', 'read:shares', 'users:shares', 'groups:shares'],
  },
  proxy: { description: "Read the proxy's routing table and sync it." },
  shutdown: { description: 'Shut the hub down.' },
  'read:metrics': { description: 'Read Prometheus metrics.' },
}

/** What `self` grants a user, each filtered to that user. */
export const SELF_SCOPES = [
  'read:users',
  'users:shares',
  'read:shares',
  'users:activity',
  'servers',
  'tokens',
  'access:servers',
] as const

/** What any token may read of its own owner, whatever its scopes (JupyterHub's identify scopes). */
export const IDENTIFY_SCOPES = ['read:users:name!user', 'read:users:groups!user'] as const

export const FILTER_KINDS = ['user', 'server', 'group', 'service'] as const
export type FilterKind = (typeof FILTER_KINDS)[number]
