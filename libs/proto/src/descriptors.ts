/**
 * @file The compiled proto descriptors (written by `buf build` beside the generated code), for
 * server reflection: grpcurl and other tools discover our services from these bytes.
 */
import { readFileSync } from 'node:fs';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';

/** Fully qualified names of the services defined in proto/seal/v1. */
export const SEAL_SERVICE_NAMES = ['seal.v1.TeacherService', 'seal.v1.StudentService'] as const;

const DESCRIPTOR_SET_URL = new URL('./gen/descriptor-set.binpb', import.meta.url);

/**
 * The encoded FileDescriptorProto of every file in proto/, in dependency order.
 * A FileDescriptorSet is `repeated FileDescriptorProto file = 1`, so splitting it needs only the
 * wire reader, not a full descriptor model.
 */
export function loadFileDescriptorProtos(): Uint8Array[] {
  const bytes = readFileSync(DESCRIPTOR_SET_URL);
  const reader = new BinaryReader(bytes);
  const files: Uint8Array[] = [];
  while (reader.pos < reader.len) {
    const [fieldNo, wireType] = reader.tag();
    if (fieldNo === 1 && wireType === WireType.LengthDelimited) files.push(reader.bytes());
    else reader.skip(wireType);
  }
  if (files.length === 0) throw new Error(`no file descriptors in ${DESCRIPTOR_SET_URL.pathname}; run \`pnpm proto:generate\``);
  return files;
}

/**
 * The minimal `@grpc/proto-loader` PackageDefinition shape that `@grpc/reflection` reads: it only
 * looks at `fileDescriptorProtos` on each entry.
 */
export function reflectionPackageDefinition(): Record<string, { fileDescriptorProtos: Buffer[] }> {
  const fileDescriptorProtos = loadFileDescriptorProtos().map((file) => Buffer.from(file));
  return Object.fromEntries(SEAL_SERVICE_NAMES.map((name) => [name, { fileDescriptorProtos }]));
}
