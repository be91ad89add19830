/**
 * @file The deployment files agree with the code: ports, probes, service names, config schema
 * and the container entry point (deploy/Dockerfile, deploy/k8s/base).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SEAL_SERVICE_NAMES } from '@seal/proto';
import { DEFAULT_STUDENT_PORT, DEFAULT_TEACHER_PORT, parseConfig, serverConfigSchema } from '@seal/rpc';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { REPO_ROOT } from './seal-process';

const BASE = join(REPO_ROOT, 'deploy/k8s/base');

interface K8sObject {
  kind: string;
  metadata: { name: string };
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
    const args: string[] = find('Job', 'seal-run').spec.template.spec.containers[0].args;
    expect(args[0]).toBe('run');
    expect(args[args.indexOf('--teacher') + 1]).toBe(`seal-teacher:${DEFAULT_TEACHER_PORT}`);
    expect(args[args.indexOf('--students') + 1]).toBe(`dns:///seal-student:${DEFAULT_STUDENT_PORT}`);
    const collector = find('Service', 'otel-collector').spec.ports[0].port;
    for (const [kind, name] of [['Deployment', 'seal-teacher'], ['Deployment', 'seal-student'], ['Job', 'seal-run']]) {
      expect(find(kind, name).spec.template.spec.containers[0].env).toContainEqual({ name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: `http://otel-collector:${collector}` });
    }
  });

  it('builds an image whose entry point is the root seal script', () => {
    const dockerfile = readFileSync(join(REPO_ROOT, 'deploy/Dockerfile'), 'utf8');
    const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)![1]) as string[];
    const script = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.seal;
    expect(entrypoint.join(' ')).toBe(script);
    expect(/^EXPOSE (.*)$/m.exec(dockerfile)![1].split(/\s+/).map(Number)).toEqual([DEFAULT_TEACHER_PORT, DEFAULT_STUDENT_PORT]);
    // Every workspace package.json is copied before install, or the frozen install would fail.
    const workspaces = [...['apps', 'libs'].flatMap((group) => readdirSync(join(REPO_ROOT, group)).map((name) => `${group}/${name}`)), 'e2e', 'tools', 'experiments'].filter((w) =>
      existsSync(join(REPO_ROOT, w, 'package.json')),
    );
    expect(workspaces.length).toBeGreaterThan(10);
    for (const w of workspaces) expect(dockerfile).toContain(`COPY ${w}/package.json ${w}/`);
  });
});
