/**
 * deploy/ without a Docker engine or a cluster: the Dockerfile, docker-compose.yml and the kustomize
 * manifests parse, and they name what the code really uses — the job stream and consumer and the NATS
 * users derived from libs/contracts, environment variables the code reads, entry points that exist —
 * so a rename in the code fails here, not in someone's cluster.
 */
import { existsSync, readdirSync, readFileSync } from 'fs';
import { join, resolve } from 'path';
import { parseAllDocuments } from 'yaml';
import { LIMITS, names, renderNatsServerConfig, roleInboxPrefix, rolePasswordVariable, ROLES, type Role } from '@pdr/contracts';
import { ENV_VARS } from '@pdr/config';

const REPO = resolve(__dirname, '../..');
const DEPLOY = join(REPO, 'deploy');
const K8S = join(DEPLOY, 'k8s');

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function parseYaml(file: string): Doc[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'), { merge: true });
  for (const d of docs) {
    expect({ file, errors: d.errors.map((e) => e.message) }).toEqual({ file, errors: [] });
  }
  return docs.map((d) => d.toJS({ maxAliasCount: 100 }) as Doc).filter((d) => d !== null);
}

/** Every PDR_* variable some code reads: the config's table, the namespace, the limits, logging, runner flags. */
function knownVariables(): Set<string> {
  const known = new Set<string>(ENV_VARS.map((e) => e.name));
  known.add('PDR_NATS_PREFIX'); // @pdr/contracts namespaceFromEnv
  for (const k of Object.keys(LIMITS)) known.add(`PDR_${k}`); // limitFromEnv
  for (const r of ROLES) known.add(rolePasswordVariable(r)); // nats-server.conf
  // variables read by the logging lib and the runner's main, found in their sources
  const sources = [join(REPO, 'libs/logging/src/logger.ts'), join(REPO, 'apps/runner/src/main.ts')].map((f) => readFileSync(f, 'utf8')).join('\n');
  for (const m of sources.matchAll(/\b(PDR_[A-Z_]+)\b/g)) known.add(m[1]);
  return known;
}

/** The service a command runs: `apps/<svc>/dist/main.js` (or the CLI), whose source must exist. */
function entryPoint(args: string[]): string {
  const main = args[0];
  const m = /^apps\/(state|planner|runner)\/dist\/main\.js$/.exec(main) ?? /^apps\/(cli)\/bin\/pdr\.js$/.exec(main);
  expect({ main, known: !!m }).toEqual({ main, known: true });
  const svc = m![1];
  expect(existsSync(join(REPO, 'apps', svc, svc === 'cli' ? 'bin/pdr.js' : 'src/main.ts'))).toBe(true);
  return svc;
}

describe('kustomize manifests (deploy/k8s)', () => {
  const kustomization = parseYaml(join(K8S, 'kustomization.yaml'))[0];
  const resources: Doc[] = (kustomization.resources as string[]).flatMap((r) => {
    expect(existsSync(join(K8S, r))).toBe(true);
    return parseYaml(join(K8S, r));
  });
  const config = Object.fromEntries(
    (kustomization.configMapGenerator[0].literals as string[]).map((l) => {
      const i = l.indexOf('=');
      return [l.slice(0, i), l.slice(i + 1)];
    }),
  ) as Record<string, string>;
  const n = names(config.PDR_NATS_PREFIX);
  const deployments = resources.filter((d) => d.kind === 'Deployment');
  const byName = (name: string) => deployments.find((d) => d.metadata.name === name)!;

  it('every resource is a named Kubernetes object and every file parses', () => {
    expect(kustomization.kind).toBe('Kustomization');
    for (const f of readdirSync(K8S).filter((f) => f.endsWith('.yaml'))) parseYaml(join(K8S, f));
    for (const d of resources) {
      expect(typeof d.apiVersion).toBe('string');
      expect(typeof d.kind).toBe('string');
      expect(d.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(['pdr-planner', 'pdr-runner', 'pdr-state']);
  });

  it('each Deployment runs a real entry point as a non-root user with its own NATS role and known variables', () => {
    const known = knownVariables();
    const secrets = new Map(resources.filter((d) => d.kind === 'Secret').map((s) => [s.metadata.name, Object.keys(s.stringData)]));
    for (const name of Object.keys(config)) expect({ name, known: known.has(name) }).toEqual({ name, known: true });
    for (const d of deployments) {
      const spec = d.spec.template.spec;
      expect(d.spec.selector.matchLabels).toEqual(d.spec.template.metadata.labels);
      expect(spec.securityContext.runAsNonRoot).toBe(true);
      const [c] = spec.containers;
      expect(c.image).toBe(kustomization.images[0].name);
      const svc = entryPoint(c.args);
      expect(d.metadata.name).toBe(`pdr-${svc}`);
      expect(c.envFrom).toEqual([{ configMapRef: { name: 'pdr-config' } }]);
      const env = new Map<string, Doc>(c.env.map((e: Doc) => [e.name, e]));
      for (const name of env.keys()) expect({ name, known: known.has(name) }).toEqual({ name, known: true });
      expect(env.get('PDR_NATS_USER')!.value).toBe(svc as Role);
      expect(env.get('PDR_NATS_INBOX_PREFIX')!.value).toBe(roleInboxPrefix(config.PDR_NATS_PREFIX, svc as Role));
      const pw = env.get('PDR_NATS_PASSWORD')!.valueFrom.secretKeyRef;
      expect(secrets.get(pw.name)).toContain(pw.key);
      expect(pw.key).toBe(`${svc}-password`);
      for (const e of env.values()) {
        const ref = e.valueFrom?.secretKeyRef;
        if (ref) expect(secrets.get(ref.name)).toContain(ref.key);
      }
    }
    expect(secrets.get('pdr-nats')!.sort()).toEqual(ROLES.map((r) => `${r}-password`).sort());
  });

  it('KEDA scales the runner Deployment with the nats-jetstream scaler on the real stream and consumer', () => {
    const so = resources.find((d) => d.kind === 'ScaledObject')!;
    expect(so.apiVersion).toBe('keda.sh/v1alpha1');
    expect(byName(so.spec.scaleTargetRef.name).spec.template.spec.containers[0].args[0]).toBe('apps/runner/dist/main.js');
    const [t] = so.spec.triggers;
    expect(t.type).toBe('nats-jetstream');
    expect(t.metadata.stream).toBe(n.jobStream);
    expect(t.metadata.consumer).toBe(n.jobConsumer);
    expect(t.metadata.account).toBe('$G');
    expect(t.metadata.natsServerMonitoringEndpoint).toMatch(/:8222$/);
    // one replica per --concurrency waiting jobs
    const args: string[] = byName('pdr-runner').spec.template.spec.containers[0].args;
    expect(t.metadata.lagThreshold).toBe(args[args.indexOf('--concurrency') + 1]);
    // a removed pod's jobs get their grace period before Kubernetes kills it
    const grace = Number(args[args.indexOf('--shutdown-grace') + 1]);
    expect(byName('pdr-runner').spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(grace);
  });

  it('names the namespace the NATS permissions were rendered for', () => {
    expect(readFileSync(join(DEPLOY, 'nats/nats-server.conf'), 'utf8')).toBe(renderNatsServerConfig(config.PDR_NATS_PREFIX));
  });
});

describe('docker-compose.yml', () => {
  const [compose] = parseYaml(join(DEPLOY, 'docker-compose.yml'));
  const s = compose.services as Record<string, Doc>;
  const env = (svc: string) => s[svc].environment as Record<string, string>;

  it('has MariaDB and NATS with JetStream on volumes, state, planner, runners with replicas and the demo', () => {
    expect(Object.keys(s).sort()).toEqual(['demo', 'mariadb', 'nats', 'planner', 'runner', 'state']);
    expect(s.mariadb.volumes).toContain('db-data:/var/lib/mysql');
    expect(s.nats.command).toEqual(expect.arrayContaining(['-c', '/etc/nats/nats-server.conf', '-sd', '/data']));
    expect(s.nats.volumes).toEqual(expect.arrayContaining(['./nats/nats-server.conf:/etc/nats/nats-server.conf:ro', 'nats-data:/data']));
    expect(readFileSync(join(DEPLOY, 'nats/nats-server.conf'), 'utf8')).toMatch(/^jetstream: enabled$/m);
    expect(Object.keys(compose.volumes)).toEqual(expect.arrayContaining(['db-data', 'nats-data']));
    expect(String(s.runner.deploy.replicas)).toMatch(/^\$\{PDR_RUNNER_REPLICAS:-\d+\}$/);
  });

  it('runs each service from the one image with its own NATS role, the demo on the mock KOSMA-tau', () => {
    const known = knownVariables();
    for (const svc of ['state', 'planner', 'runner', 'demo']) {
      expect(s[svc].build).toEqual({ context: '..', dockerfile: 'deploy/Dockerfile' });
      const role = entryPoint(s[svc].command);
      expect(env(svc).PDR_NATS_USER).toBe(role);
      expect(env(svc).PDR_NATS_PASSWORD).toBe(`\${${rolePasswordVariable(role as Role)}}`);
      expect(env(svc).PDR_NATS_PREFIX).toBe('pdr');
      expect(env(svc).PDR_NATS_INBOX_PREFIX).toBe(roleInboxPrefix('pdr', role as Role));
      for (const name of Object.keys(env(svc))) expect({ name, known: known.has(name) }).toEqual({ name, known: true });
    }
    expect(Object.keys(env('nats')).sort()).toEqual(ROLES.map(rolePasswordVariable).sort());
    const demo: string[] = s.demo.command;
    const cfg = demo[demo.indexOf('--config') + 1];
    expect(existsSync(join(REPO, cfg))).toBe(true);
    expect(readFileSync(join(REPO, cfg), 'utf8')).toMatch(/base_dir: deploy\/kosmatau-mock/);
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8');
  const lines = text.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));

  it('builds in one stage and runs from another as a non-root user', () => {
    const froms = lines.filter((l) => /^FROM /.test(l));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    const last = lines.slice(lines.indexOf(froms[froms.length - 1]));
    const user = last.filter((l) => /^USER /.test(l)).pop();
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER\s+(root|0)(\s|:|$)/);
    expect(last.join('\n')).toMatch(/COPY --from=build/);
  });

  it('copies what exists and starts a real entry point', () => {
    for (const l of lines.filter((x) => /^COPY (?!--from)/.test(x))) {
      const parts = l.split(/\s+/).slice(1, -1);
      for (const p of parts) expect({ p, exists: existsSync(join(REPO, p)) }).toEqual({ p, exists: true });
    }
    const cmd = JSON.parse(/^CMD (.*)$/m.exec(text)![1]) as string[];
    expect(/^ENTRYPOINT \["node"\]$/m.test(text)).toBe(true);
    entryPoint(cmd);
  });
});
