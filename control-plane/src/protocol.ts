// The hub's public protocol: what the proxy's Lua implements too (proxy/lua/edgehub/keys.lua,
// session.lua, identity.lua) and what docs/redis-schema.md describes. Tests and benchmarks that drive a
// stack from outside (test/e2e, test/fault, test/proxy, bench) may import this module and no other
// control-plane file (test/unit/import-rules.test.ts): with it they read and seed state the way a
// proxy or an operator would.
//
// - the Redis key schema, cookie names, the activity merge and the change stream's fields;
// - API tokens as stored: their SHA-256 digest;
// - the session cookie: its format, signing and checking; the hand-off token of per-user hosts;
// - the proxy tables and their change stream, written as the hub writes them;
// - the two Redis log-ins of a private Redis (hub and proxy), their ACL rules and where their
//   credentials are kept.
//
// Nothing here reaches the hub's state classes, config or HTTP app; the import-rules test checks that
// these modules import nothing but each other and node:/npm packages.
export {
  ACTIVITY_MERGE_SCRIPT,
  COOKIE_VERSION,
  HOST_COOKIE,
  keyNames,
  oidcKeyNames,
  PROXY_TABLES,
  SESSION_COOKIE,
  STREAM_FIELDS,
  XSRF_COOKIE,
  type KeyNames,
  type OidcKeyNames,
  type ProxyTable,
} from './state/keys'
export { tokenDigest } from './state/token-digest'
export {
  newKeySecret,
  newSessionId,
  parseCookie,
  sessionCookieValue,
  signCookie,
  verifyCookie,
  type CookieClaims,
} from './sessions/cookie'
export { ProxyTables, type TableOp } from './state/proxy-tables'
export {
  ACL_FILE,
  aclFileText,
  CREDENTIALS_FILE,
  DEFAULT_USER_LINE,
  hubAclRules,
  HUB_REDIS_USER,
  prepareRedisAcl,
  privateRedisDir,
  proxyAclRules,
  PROXY_REDIS_USER,
  readRedisCredentials,
  type RedisCredentials,
  type RedisLogin,
} from './stack/redis-acl'
export { HANDOFF_TTL_SEC, signHandoff, type HandoffClaims } from './sessions/handoff-token'
