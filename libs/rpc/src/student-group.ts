/**
 * @file Student addresses as pool members. An IP literal (`10.0.0.4:50052`) is one RemoteStudent;
 * a name (`seal-student:50052`, or grpc's `dns:///seal-student:50052`) is a StudentGroup resolved
 * through node:dns, one RemoteStudent per address it resolves to, so each replica behind a
 * headless Service has its own Info capacity, in-flight bound and health in the pool, and the pool's
 * periodic re-resolution lets a scaled Deployment's new pods join and removed ones leave.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Student, StudentGroup, StudentSource } from '@seal/coordinator';
import type { RemoteOptions } from './client-calls';
import { RpcError } from './errors';
import { RemoteStudent } from './remote-student';

/** Resolves a host name to its addresses (the system resolver by default; tests inject their own). */
export type ResolveHost = (host: string) => Promise<string[]>;

/** getaddrinfo, as every other program on the host would resolve the name (hosts file, DNS). */
const systemResolve: ResolveHost = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/** `host:port`, `[v6]:port` or `dns:///host:port` → host and port; anything else is invalid_argument. */
export function parseStudentAddress(address: string): { host: string; port: number; named: boolean } {
  const bare = address.startsWith('dns:///') ? address.slice('dns:///'.length) : address;
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:/[\]]+)):(\d{1,5})$/.exec(bare);
  const port = Number(match?.[3]);
  if (!match || port < 1 || port > 65535) throw new RpcError('invalid_argument', `student address must be host:port, [v6]:port or dns:///host:port, got "${address}"`);
  const host = match[1] ?? match[2]!;
  return { host, port, named: isIP(host) === 0 };
}

/** `10.0.0.4:50052` or `[fd00::4]:50052`, as grpc-js dials it. */
const dialTarget = (ip: string, port: number) => (isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`);

export class DnsStudentGroup implements StudentGroup {
  readonly name: string;
  private readonly host: string;
  private readonly port: number;
  /**
   * One client per address ever seen, kept until close(): a replica that left may still be
   * finishing work the pool gave it, and one that returns reuses its connection.
   */
  private readonly clients = new Map<string, RemoteStudent>();

  constructor(
    address: string,
    private readonly options: RemoteOptions = {},
    private readonly resolveHost: ResolveHost = systemResolve,
  ) {
    const { host, port } = parseStudentAddress(address);
    this.name = address;
    this.host = host;
    this.port = port;
  }

  async resolve(): Promise<Map<string, Student>> {
    let ips: string[];
    try {
      ips = await this.resolveHost(this.host);
    } catch (error) {
      throw new RpcError('unavailable', `${this.name}: cannot resolve ${this.host} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    const students = new Map<string, Student>();
    for (const ip of ips) {
      const target = dialTarget(ip, this.port);
      let client = this.clients.get(target);
      if (!client) {
        client = new RemoteStudent(target, this.options);
        this.clients.set(target, client);
      }
      students.set(target, client);
    }
    return students;
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}

/** The pool sources for `--students` addresses, and how to close their connections. */
export function remoteStudentSources(addresses: string[], options: RemoteOptions = {}, resolveHost?: ResolveHost): { sources: StudentSource[]; close(): void } {
  const sources = addresses.map((address) =>
    parseStudentAddress(address).named ? new DnsStudentGroup(address, options, resolveHost) : new RemoteStudent(address.replace(/^dns:\/\/\//, ''), options),
  );
  return { sources, close: () => sources.forEach((s) => s.close()) };
}
