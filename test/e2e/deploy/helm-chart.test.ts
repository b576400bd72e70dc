// The Helm chart (deploy/helm/edgehub), rendered by deploy/helm/render with several values files
// and checked as an API server and the hub would check it: every manifest against the Kubernetes
// OpenAPI schemas (kubernetes-models' validators: types, required fields, formats) and strictly
// (@kubernetes/client-node's models: an unknown field is an error), the edgehub.yaml it writes by the
// hub's own `edgehub config check`, the values against values.schema.json; then what the chart
// promises: hub replicas, disruption budgets and rolling updates, the proxies' autoscaler, RBAC that
// is exactly what the Kubernetes spawner calls, and NetworkPolicies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { Ajv } from 'ajv'
import { parse } from 'yaml'
import { objectProblems } from '../../../spawners/src/kubernetes/object-schema'
import { ROOT } from '../../support/stack'
import { buildRenderer, CHART, configCheck, render, valuesFiles, type Manifest } from './helm'

let renderer = ''
const scratch = mkdtempSync(join(tmpdir(), 'edgehub-helm-test-'))
beforeAll(() => {
  renderer = buildRenderer()
}, 120_000)
afterAll(() => {
  if (renderer) rmSync(dirname(renderer), { recursive: true, force: true })
  rmSync(scratch, { recursive: true, force: true })
})

const files = valuesFiles()
const rendered = (name: string, namespace = 'edgehub') => {
  const r = render(renderer, files[name] as string, namespace)
  if ('error' in r) throw new Error(`rendering with ${name}.yaml failed: ${r.error}`)
  return r.manifests
}
const one = (ms: Manifest[], kind: string, name: string) => {
  const found = ms.filter((m) => m.kind === kind && m.metadata.name === name)
  expect(found, `${kind} ${name}`).toHaveLength(1)
  return found[0] as Manifest & Record<string, any>
}

/** kubernetes-models' class for a manifest's apiVersion and kind. */
async function modelOf(m: Manifest) {
  const [group, version] = m.apiVersion.includes('/') ? m.apiVersion.split('/') : ['', m.apiVersion]
  const path = group ? `kubernetes-models/${group}/${version}/${m.kind}` : `kubernetes-models/${version}/${m.kind}`
  const mod = (await import(path)) as Record<string, new (data: unknown) => { validate(): void }>
  const cls = mod[m.kind]
  if (!cls) throw new Error(`no model for ${m.apiVersion} ${m.kind}`)
  return cls
}

describe('the chart renders into valid Kubernetes objects', () => {
  it('has the values files this test is about', () => {
    expect(Object.keys(files).sort()).toEqual(['defaults', 'external-redis', 'no-hpa'])
  })

  for (const name of ['defaults', 'external-redis', 'no-hpa']) {
    it(`${name}.yaml: every manifest passes the Kubernetes schemas, strictly`, async () => {
      const ms = rendered(name)
      expect(ms.length).toBeGreaterThan(5)
      const seen = new Set<string>()
      for (const m of ms) {
        const id = `${m.apiVersion} ${m.kind} ${m.metadata.namespace}/${m.metadata.name}`
        expect(seen.has(id), `${id} twice`).toBe(false)
        seen.add(id)
        expect(m.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
        expect(m.metadata.name.length).toBeLessThanOrEqual(63)
        const Model = await modelOf(m)
        expect(() => new Model(m).validate(), id).not.toThrow()
        const version = m.apiVersion.split('/').pop() as string
        const type = `${version[0]?.toUpperCase()}${version.slice(1)}${m.kind}`
        expect(objectProblems(m, type), id).toEqual([])
      }
    })
  }

  it("the edgehub.yaml each values file makes passes the hub's own config check", async () => {
    const names = ['defaults', 'external-redis', 'no-hpa']
    const checks = await Promise.all(
      names.map((name) => {
        const cm = one(rendered(name), 'ConfigMap', 'edgehub-config')
        expect(parse(cm.data['edgehub.yaml']).spawner.kind).toBe('kubernetes')
        const file = join(scratch, `${name}-edgehub.yaml`)
        writeFileSync(file, cm.data['edgehub.yaml'])
        return configCheck(file)
      }),
    )
    checks.forEach((r, i) => {
      expect(r.output, names[i]).toContain('configuration OK')
      expect(r.status, names[i]).toBe(0)
    })
  }, 180_000)

  it('the strict check does catch an unknown field and a wrong type (it could fail)', async () => {
    const hub = one(rendered('defaults'), 'Deployment', 'edgehub-hub')
    const bad = structuredClone(hub)
    bad.spec.template.spec.containers[0].bogus = 1
    bad.spec.replicas = 'two'
    expect(objectProblems(bad, 'V1Deployment')).toEqual([
      '.spec.replicas: expected a number, got string',
      '.spec.template.spec.containers[0].bogus: unknown field',
    ])
    const Model = await modelOf(bad)
    expect(() => new Model(bad).validate()).toThrow(/replicas/)
  })

  it('a missing publicUrl stops the rendering with a message naming the value', () => {
    const file = join(scratch, 'no-url.yaml')
    writeFileSync(file, 'hub: { replicas: 2 }\n')
    const r = render(renderer, file)
    expect('error' in r && r.error).toMatch(/config\.publicUrl is required/)
  })
})

describe('values', () => {
  const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8'))
  const defaults = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8'))
  const validate = new Ajv({ allErrors: true, strict: false }).compile(schema)

  /** values.yaml with `over` merged in, as helm merges a values file. */
  const merged = (over: Record<string, unknown>) => {
    const out = structuredClone(defaults)
    const put = (dst: Record<string, any>, src: Record<string, any>) => {
      for (const [k, v] of Object.entries(src)) {
        if (v && typeof v === 'object' && !Array.isArray(v) && dst[k] && typeof dst[k] === 'object') put(dst[k], v)
        else dst[k] = v
      }
    }
    put(out, over)
    return out
  }

  it('every values file, over values.yaml, passes values.schema.json', () => {
    for (const [name, file] of Object.entries(files)) {
      const ok = validate(merged(parse(readFileSync(file, 'utf8'))))
      expect(ok, `${name}: ${JSON.stringify(validate.errors)}`).toBe(true)
    }
  })

  it('the schema refuses one hub, an unknown value, and an out-of-range number', () => {
    for (const over of [
      { hub: { replicas: 1 } },
      { hub: { replicaCount: 2 } },
      { redis: { downAfterMilliseconds: 600_000 } },
      { proxy: { workers: 65 } },
    ]) {
      expect(validate(merged(over)), JSON.stringify(over)).toBe(false)
    }
  })

  it('every value in values.yaml is described in the schema and commented in values.yaml', () => {
    const undocumented: string[] = []
    const walk = (value: unknown, node: Record<string, any> | undefined, path: string) => {
      if (!node?.description) undocumented.push(path)
      if (value && typeof value === 'object' && !Array.isArray(value) && node?.properties)
        for (const [k, v] of Object.entries(value)) walk(v, node.properties[k], `${path}.${k}`)
    }
    for (const [k, v] of Object.entries(defaults)) walk(v, schema.properties[k], k)
    expect(undocumented).toEqual([])
    // and values.yaml itself explains each top-level part before it
    const text = readFileSync(join(CHART, 'values.yaml'), 'utf8')
    for (const k of Object.keys(defaults)) expect(text, k).toMatch(new RegExp(`#[^\\n]*\\n(#[^\\n]*\\n)*${k}:`))
  })
})

describe('what the chart promises', () => {
  it('hubs: 2 replicas, a disruption budget, rolling updates that never go below the count', () => {
    const ms = rendered('defaults')
    const hub = one(ms, 'Deployment', 'edgehub-hub')
    expect(hub.spec.replicas).toBe(2)
    expect(hub.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } })
    const pdb = one(ms, 'PodDisruptionBudget', 'edgehub-hub')
    expect(pdb.spec).toEqual({ maxUnavailable: 1, selector: hub.spec.selector })
    const c = hub.spec.template.spec.containers[0]
    expect(c.readinessProbe.httpGet.path).toBe('/hub/health')
    expect(hub.spec.template.spec.securityContext.runAsNonRoot).toBe(true)
    expect(c.securityContext.allowPrivilegeEscalation).toBe(false)
    // a changed edgehub.yaml rolls the pods
    expect(hub.spec.template.metadata.annotations['checksum/config']).toMatch(/^[0-9a-f]{64}$/)
  })

  it('proxies: an autoscaler over their Deployment, which then leaves replicas to it; or a fixed count', () => {
    const ms = rendered('defaults')
    const proxy = one(ms, 'Deployment', 'edgehub-proxy')
    const hpa = one(ms, 'HorizontalPodAutoscaler', 'edgehub-proxy')
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'edgehub-proxy' })
    expect(hpa.spec.minReplicas).toBe(2)
    expect(proxy.spec.replicas).toBeUndefined()
    expect(one(ms, 'Service', 'edgehub-proxy-public').spec.type).toBe('LoadBalancer')

    const fixed = rendered('no-hpa')
    expect(fixed.filter((m) => m.kind === 'HorizontalPodAutoscaler')).toEqual([])
    expect(fixed.filter((m) => m.kind === 'PodDisruptionBudget' || m.kind === 'NetworkPolicy')).toEqual([])
    expect(one(fixed, 'Deployment', 'edgehub-proxy').spec.replicas).toBe(3)
    expect(one(fixed, 'Deployment', 'edgehub-hub').spec.replicas).toBe(3)
  })

  it('the hubs are the only pods with a service account token, and their Role is exactly what the spawner calls', () => {
    // what spawners/src/kubernetes/ calls, read from its source: client methods and watch paths
    const src = ['api.ts', 'index.ts', 'events.ts', 'pod-status.ts']
      .map((f) => readFileSync(join(ROOT, 'spawners/src/kubernetes', f), 'utf8'))
      .join('\n')
    const verbOf: Record<string, string> = { read: 'get', create: 'create', delete: 'delete', list: 'list' }
    const resourceOf: Record<string, string> = {
      Pod: 'pods',
      PodLog: 'pods/log',
      Event: 'events',
      PersistentVolumeClaim: 'persistentvolumeclaims',
    }
    const needed = new Set<string>()
    for (const [, verb, kind] of src.matchAll(/\b(read|create|delete|list|patch|replace)Namespaced([A-Za-z]+)\(/g)) {
      const resource = resourceOf[kind as string]
      expect(resource, `a call of ${verb}Namespaced${kind}`).toBeDefined()
      needed.add(`${resource} ${verbOf[verb as string] ?? verb}`)
    }
    for (const [, resource] of src.matchAll(/watchSource\(\s*kc,\s*`\/api\/v1\/namespaces\/\$\{ns\}\/([a-z]+)`/g)) {
      needed.add(`${resource} list`)
      needed.add(`${resource} watch`)
    }
    expect(needed.size).toBeGreaterThan(5)

    for (const [name, ns] of [
      ['defaults', 'edgehub'],
      ['external-redis', 'jupyter-users'],
    ] as const) {
      const ms = rendered(name)
      const role = one(ms, 'Role', 'edgehub-hub')
      expect(role.metadata.namespace).toBe(ns)
      const granted = new Set<string>()
      for (const rule of role.rules) {
        expect(rule.apiGroups).toEqual([''])
        for (const r of rule.resources) for (const v of rule.verbs) granted.add(`${r} ${v}`)
      }
      // get on events: the informer's cache is filled by list and watch; get is KubeSpawner's habit
      const extra = [...granted].filter((g) => !needed.has(g))
      expect(extra).toEqual(['events get'])
      expect([...needed].filter((n) => !granted.has(n))).toEqual([])
      const binding = one(ms, 'RoleBinding', 'edgehub-hub')
      expect(binding.metadata.namespace).toBe(ns)
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'edgehub-hub', namespace: 'edgehub' }])
      expect(ms.filter((m) => m.kind === 'ClusterRole' || m.kind === 'ClusterRoleBinding')).toEqual([])
      expect(one(ms, 'Deployment', 'edgehub-hub').spec.template.spec.serviceAccountName).toBe('edgehub-hub')
    }
    const ms = rendered('defaults')
    expect(one(ms, 'Deployment', 'edgehub-proxy').spec.template.spec.automountServiceAccountToken).toBe(false)
    expect(one(ms, 'StatefulSet', 'edgehub-redis').spec.template.spec.automountServiceAccountToken).toBe(false)
  })

  it('NetworkPolicies: users’ pods reached by proxies and hubs only, Redis by hubs, proxies and itself', () => {
    const ms = rendered('defaults')
    const peer = (p: any) =>
      `${p.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] ?? '(same)'}/${p.podSelector?.matchLabels?.['app.kubernetes.io/component']}`
    const users = one(ms, 'NetworkPolicy', 'edgehub-singleuser')
    expect(users.spec.podSelector.matchLabels).toEqual({ app: 'jupyterhub', component: 'singleuser-server' })
    expect(users.spec.policyTypes).toEqual(['Ingress', 'Egress'])
    expect(users.spec.ingress).toHaveLength(1)
    expect(users.spec.ingress[0].from.map(peer)).toEqual(['edgehub/proxy', 'edgehub/hub'])
    expect(users.spec.ingress[0].ports).toEqual([{ port: 8888, protocol: 'TCP' }])
    // out: the proxies, DNS, and outside the private ranges; never Redis or the hub port
    const egress = users.spec.egress as any[]
    expect(egress.flatMap((e) => e.to.filter((t: any) => t.podSelector).map(peer))).toEqual([
      'edgehub/proxy',
      'kube-system/undefined',
    ])
    expect(egress.flatMap((e) => e.ports ?? []).map((p: any) => p.port)).toEqual([8000, 53, 53])
    expect(egress.find((e) => e.to[0].ipBlock)?.to[0].ipBlock.except).toContain('10.0.0.0/8')

    const redis = one(ms, 'NetworkPolicy', 'edgehub-redis')
    expect(redis.spec.ingress[0].from.map(peer)).toEqual(['edgehub/hub', 'edgehub/proxy', '(same)/redis'])
    const hub = one(ms, 'NetworkPolicy', 'edgehub-hub')
    expect(hub.spec.ingress[0].from.map(peer)).toEqual(['edgehub/proxy'])
    // the labels the policies select are the pods' own
    for (const c of ['hub', 'proxy']) {
      const labels = one(ms, 'Deployment', `edgehub-${c}`).spec.template.metadata.labels
      expect(labels['app.kubernetes.io/component']).toBe(c)
      expect(labels['app.kubernetes.io/instance']).toBe('edgehub')
    }
    expect(one(ms, 'StatefulSet', 'edgehub-redis').spec.template.metadata.labels['app.kubernetes.io/component']).toBe(
      'redis',
    )
  })

  it('Redis with Sentinel in the cluster, or your own: each part mounts only its own password', () => {
    const ms = rendered('defaults')
    const sts = one(ms, 'StatefulSet', 'edgehub-redis')
    expect(sts.spec.replicas).toBe(3)
    expect(sts.spec.template.spec.containers.map((c: any) => c.name)).toEqual(['redis', 'sentinel'])
    const secretKeys = (c: any) =>
      c.env
        .filter((e: any) => e.valueFrom)
        .map((e: any) => e.valueFrom.secretKeyRef.key)
        .sort()
    expect(secretKeys(sts.spec.template.spec.containers[1])).toEqual(['redis-password'])
    const secret = one(ms, 'Secret', 'edgehub-redis')
    expect(Object.keys(secret.data).sort()).toEqual(['hub-password', 'proxy-password', 'redis-password'])
    for (const v of Object.values(secret.data) as string[]) expect(Buffer.from(v, 'base64').length).toBe(40)
    const mounted = (d: string, m: Manifest[]) =>
      one(m, 'Deployment', d).spec.template.spec.volumes.find((v: any) => v.name === 'redis-password').secret
    expect(mounted('edgehub-hub', ms).items).toEqual([{ key: 'hub-password', path: 'hub-password' }])
    expect(mounted('edgehub-proxy', ms).items).toEqual([{ key: 'proxy-password', path: 'proxy-password' }])
    const config = parse(one(ms, 'ConfigMap', 'edgehub-config').data['edgehub.yaml'])
    expect(config.redis.sentinel.hosts).toEqual(
      [0, 1, 2].map((i) => `edgehub-redis-${i}.edgehub-redis-headless.edgehub.svc:26379`),
    )
    expect(JSON.stringify(config)).not.toMatch(/password"?:\s*"[^/]/i)

    const own = rendered('external-redis')
    expect(own.filter((m) => m.kind === 'StatefulSet' || m.kind === 'Secret')).toEqual([])
    expect(mounted('edgehub-proxy', own).secretName).toBe('site-redis')
    const plain = rendered('no-hpa')
    // no ACL user of their own: the proxies log in as the hubs do, with the hubs' password
    expect(mounted('edgehub-proxy', plain).items).toEqual([{ key: 'hub-password', path: 'hub-password' }])
    expect(parse(one(plain, 'ConfigMap', 'edgehub-config').data['edgehub.yaml']).proxy.redis).toBeUndefined()
  })
})
