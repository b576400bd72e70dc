// Checks a Kubernetes object (or a piece of one: a container, a toleration, a volume) against the
// Kubernetes object schemas as @kubernetes/client-node's models describe them (each model's attribute
// type map): a field the schema does not have, or a value of the wrong type, is a problem naming its
// path, as a real API server's strict field validation reports it. Used for the raw Kubernetes pieces
// of spawner.kubernetes (checked at startup) and by the tests' fake API server.
import * as k8s from '@kubernetes/client-node'

interface Attribute {
  name: string
  baseName: string
  type: string
}

const models = k8s as unknown as Record<string, { getAttributeTypeMap?: () => Attribute[] } | undefined>

/** The fields of model `type` by their JSON name; undefined when there is no such model. */
function fieldsOf(type: string): Map<string, string> | undefined {
  const attrs = models[type]?.getAttributeTypeMap?.()
  if (!attrs) return undefined
  return new Map(attrs.map((a) => [a.baseName, a.type]))
}

const NUMBER = new Set(['number', 'integer', 'long', 'double', 'float'])
const ARRAY = /^Array<(.+)>$/
const MAP = /^\{ \[key: string\]: (.+); \}$/
const MOST_PROBLEMS = 20

const kindOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v)

/**
 * The problems of `value` as a `type` (a model name such as V1Pod, or a type of the type maps:
 * string, Array<V1Container>, { [key: string]: string; }), each `PATH: what is wrong`; [] when none.
 */
export function objectProblems(value: unknown, type: string, path = ''): string[] {
  const out: string[] = []
  check(value, type, path, out)
  return out.slice(0, MOST_PROBLEMS)
}

function check(value: unknown, type: string, path: string, out: string[]): void {
  if (out.length >= MOST_PROBLEMS || value === undefined || value === null) return
  const at = path || '.'
  if (type === 'any') return
  if (type === 'string' || type === 'Date') {
    if (typeof value !== 'string') out.push(`${at}: expected a string, got ${kindOf(value)}`)
    return
  }
  if (NUMBER.has(type)) {
    if (typeof value !== 'number') out.push(`${at}: expected a number, got ${kindOf(value)}`)
    else if (type !== 'number' && type !== 'double' && type !== 'float' && !Number.isInteger(value))
      out.push(`${at}: expected an integer`)
    return
  }
  if (type === 'boolean') {
    if (typeof value !== 'boolean') out.push(`${at}: expected a boolean, got ${kindOf(value)}`)
    return
  }
  if (type === 'IntOrString') {
    if (typeof value !== 'string' && !(typeof value === 'number' && Number.isInteger(value)))
      out.push(`${at}: expected an integer or a string, got ${kindOf(value)}`)
    return
  }
  const array = ARRAY.exec(type)
  if (array) {
    if (!Array.isArray(value)) return void out.push(`${at}: expected an array, got ${kindOf(value)}`)
    value.forEach((v, i) => check(v, array[1], `${path}[${i}]`, out))
    return
  }
  const map = MAP.exec(type)
  if (map) {
    if (kindOf(value) !== 'object') return void out.push(`${at}: expected an object, got ${kindOf(value)}`)
    for (const [k, v] of Object.entries(value as object)) check(v, map[1], `${path}.${k}`, out)
    return
  }
  const fields = fieldsOf(type)
  if (!fields) return // a type the models do not describe further
  if (kindOf(value) !== 'object') return void out.push(`${at}: expected an object (${type}), got ${kindOf(value)}`)
  for (const [k, v] of Object.entries(value as object)) {
    const fieldType = fields.get(k)
    if (fieldType === undefined) out.push(`${path}.${k}: unknown field`)
    else check(v, fieldType, `${path}.${k}`, out)
  }
}
