/**
 * @file The deployment files agree with the code: ports, probes, service names, config schema,
 * resources, the collector wiring, the container build and entry point (deploy/Dockerfile,
 * deploy/k8s/base), and the example overlay renders (deploy/k8s/overlays/example).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SEAL_SERVICE_NAMES } from '@seal/proto';
import { DEFAULT_STUDENT_PORT, DEFAULT_TEACHER_PORT, parseConfig, serverConfigSchema } from '@seal/rpc';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { REPO_ROOT } from './seal-process';

const BASE = join(REPO_ROOT, 'deploy/k8s/base');
const OVERLAY = join(REPO_ROOT, 'deploy/k8s/overlays/example');

/** kubectl's built-in kustomize renders the overlay where kubectl is installed. */
function hasKubectl(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface K8sObject {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
}

const kustomization = parse(readFileSync(join(BASE, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
const objects: K8sObject[] = kustomization.resources.flatMap((file) =>
  parseAllDocuments(readFileSync(join(BASE, file), 'utf8')).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}`);
    return doc.toJS() as K8sObject;
  }),
);
const find = (kind: string, name: string) => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in deploy/k8s/base`);
  return found;
};
const serviceConfigs = find('ConfigMap', 'seal-config').data!;

describe('deployment manifests', () => {
  it('lists only files that exist', () => {
    for (const file of kustomization.resources) expect(existsSync(join(BASE, file)), file).toBe(true);
  });

  it.each([
    ['teacher', DEFAULT_TEACHER_PORT, 'seal.v1.TeacherService'],
    ['student', DEFAULT_STUDENT_PORT, 'seal.v1.StudentService'],
  ] as const)('wires the %s: port, probes, config, service', (role, port, grpcService) => {
    expect(SEAL_SERVICE_NAMES).toContain(grpcService);
    const deployment = find('Deployment', `seal-${role}`);
    const pod = deployment.spec.template;
    const container = pod.spec.containers[0];
    expect(container.args.slice(0, 2)).toEqual(['serve', role]);
    expect(container.ports).toEqual([{ name: 'grpc', containerPort: port }]);
    expect(container.readinessProbe.grpc).toEqual({ port, service: grpcService });
    expect(container.livenessProbe.grpc.port).toBe(port);

    // The config the container reads is in the ConfigMap, mounted where --config points.
    const configPath: string = container.args[container.args.indexOf('--config') + 1];
    const mount = container.volumeMounts.find((m: { mountPath: string }) => configPath.startsWith(`${m.mountPath}/`));
    const volume = pod.spec.volumes.find((v: { name: string }) => v.name === mount.name);
    expect(volume.configMap.name).toBe('seal-config');
    const fileText = serviceConfigs[configPath.slice(mount.mountPath.length + 1)];
    const server = parseConfig((parse(fileText) as { server: unknown }).server, serverConfigSchema, `${role} config`);
    expect(server.port).toBe(port);
    expect(server.host).toBe('0.0.0.0');

    const service = find('Service', `seal-${role}`);
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
    expect(pod.metadata.labels).toMatchObject(service.spec.selector);
    expect(service.spec.ports).toEqual([{ name: 'grpc', port, targetPort: 'grpc', appProtocol: 'grpc' }]);
    expect(container.env).toContainEqual({ name: 'OTEL_SERVICE_NAME', value: `seal-${role}` });
  });

  it('runs one teacher and a headless student pool', () => {
    expect(find('Deployment', 'seal-teacher').spec.replicas).toBe(1);
    expect(find('Service', 'seal-student').spec.clusterIP).toBe('None');
    expect(find('Deployment', 'seal-student').spec.replicas).toBeGreaterThanOrEqual(2);
  });

  it('points the coordinator at the teacher and student services, and everyone at the collector', () => {
    const job = find('Job', 'seal-run').spec.template.spec.containers[0];
    const args: string[] = job.args;
    expect(args[0]).toBe('run');
    expect(args[args.indexOf('--teacher') + 1]).toBe(`seal-teacher:${DEFAULT_TEACHER_PORT}`);
    // The headless Service's fully qualified name, in the Job's own namespace (Downward API).
    const headless = find('Service', 'seal-student');
    expect(headless.spec.clusterIP).toBe('None');
    expect(args[args.indexOf('--students') + 1]).toBe(`dns:///${headless.metadata.name}.$(POD_NAMESPACE).svc.cluster.local:${headless.spec.ports[0].port}`);
    expect(job.env).toContainEqual({ name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } });
    // A restarted pod continues the run in --out (seal run refuses --out together with --resume).
    expect(args).toContain('--continue');
    expect(args).not.toContain('--resume');
    expect(args[args.indexOf('--out') + 1]).toMatch(/^\/var\/lib\/seal\/runs\//);

    const collectorService = find('Service', 'otel-collector');
    const collectorPod = find('Deployment', 'otel-collector').spec.template;
    expect(collectorPod.metadata.labels).toMatchObject(collectorService.spec.selector);
    const collectorPort = collectorPod.spec.containers[0].ports.find((p: { name: string }) => p.name === collectorService.spec.ports[0].targetPort);
    expect(collectorPort.containerPort).toBe(collectorService.spec.ports[0].port);
    const receiver = /grpc:\s*\{\s*endpoint:\s*0\.0\.0\.0:(\d+)\s*\}/.exec(find('ConfigMap', 'otel-collector-config').data!['config.yaml']!);
    expect(Number(receiver![1])).toBe(collectorPort.containerPort);
    const collector = collectorService.spec.ports[0].port;
    for (const [kind, name] of [['Deployment', 'seal-teacher'], ['Deployment', 'seal-student'], ['Job', 'seal-run']]) {
      expect(find(kind, name).spec.template.spec.containers[0].env).toContainEqual({ name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: `http://otel-collector:${collector}` });
    }
  });

  it('gives every container CPU and memory requests and a memory limit', () => {
    const pods = objects.filter((o) => o.kind === 'Deployment' || o.kind === 'Job');
    expect(pods.length).toBe(4);
    for (const o of pods) {
      for (const c of o.spec.template.spec.containers) {
        expect(c.resources.requests, `${o.metadata.name}/${c.name}`).toMatchObject({ cpu: expect.anything(), memory: expect.anything() });
        expect(c.resources.limits?.memory, `${o.metadata.name}/${c.name}`).toBeDefined();
      }
    }
  });

  it('builds an image whose entry point is the root seal script', () => {
    const dockerfile = readFileSync(join(REPO_ROOT, 'deploy/Dockerfile'), 'utf8');
    // Two stages: compilers for native addons stay in the first; the runtime is node:20-slim.
    const stages = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages.at(-1)).toBe('node:20-slim');
    expect(dockerfile).toMatch(/pnpm install --frozen-lockfile/);
    const rootPackage = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { packageManager: string };
    expect(dockerfile).toContain(`npm install -g ${rootPackage.packageManager}`);
    // onnxruntime-node's postinstall (a CUDA download) never runs in the build.
    expect(dockerfile).toMatch(/^ENV ONNXRUNTIME_NODE_INSTALL=skip$/m);
    const workspace = parse(readFileSync(join(REPO_ROOT, 'pnpm-workspace.yaml'), 'utf8')) as { ignoredBuiltDependencies: string[] };
    expect(workspace.ignoredBuiltDependencies).toContain('onnxruntime-node');
    const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)![1]) as string[];
    const script = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.seal;
    expect(entrypoint.join(' ')).toBe(script);
    expect(/^EXPOSE (.*)$/m.exec(dockerfile)![1].split(/\s+/).map(Number)).toEqual([DEFAULT_TEACHER_PORT, DEFAULT_STUDENT_PORT]);
    // Every workspace package.json is copied before install, or the frozen install would fail.
    // The workspace globs of pnpm-workspace.yaml (`apps/*` or a plain folder), expanded.
    const workspaces = ((workspace as unknown as { packages: string[] }).packages)
      .flatMap((glob) => (glob.endsWith('/*') ? readdirSync(join(REPO_ROOT, glob.slice(0, -2))).map((name) => `${glob.slice(0, -2)}/${name}`) : [glob]))
      .filter((w) => existsSync(join(REPO_ROOT, w, 'package.json')));
    expect(workspaces.length).toBeGreaterThan(10);
    for (const w of workspaces) expect(dockerfile).toContain(`COPY ${w}/package.json ${w}/`);
  });

  it('has an example overlay whose patches and replica counts name objects of the base', () => {
    const overlay = parse(readFileSync(join(OVERLAY, 'kustomization.yaml'), 'utf8')) as {
      resources: string[];
      replicas: { name: string; count: number }[];
      patches: { path: string }[];
      images: { name: string }[];
    };
    expect(overlay.resources).toContain('../../base');
    for (const r of overlay.resources) expect(existsSync(join(OVERLAY, r)), r).toBe(true);
    for (const { name } of overlay.replicas) expect(() => find('Deployment', name)).not.toThrow();
    for (const { path } of overlay.patches) {
      const patch = parse(readFileSync(join(OVERLAY, path), 'utf8')) as K8sObject;
      expect(() => find(patch.kind, patch.metadata.name), path).not.toThrow();
    }
    expect(overlay.images.map((i) => i.name)).toEqual(['seal-ts']);
  });

  it.skipIf(!hasKubectl())('renders the overlay with kubectl kustomize: one namespace, the pinned image, four students', () => {
    const rendered = parseAllDocuments(execFileSync('kubectl', ['kustomize', OVERLAY], { encoding: 'utf8' })).map((d) => d.toJS() as K8sObject);
    for (const o of rendered.filter((x) => x.kind !== 'Namespace')) expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe('seal');
    const student = rendered.find((o) => o.kind === 'Deployment' && o.metadata.name === 'seal-student')!;
    expect(student.spec.replicas).toBe(4);
    expect(student.spec.template.spec.containers[0].image).toBe('registry.example.com/seal-ts:0.1.0');
    // The patch kept the base's probes and ports: a strategic merge, not a replacement.
    expect(student.spec.template.spec.containers[0].readinessProbe.grpc.port).toBe(DEFAULT_STUDENT_PORT);
  });
});
