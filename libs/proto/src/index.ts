/** @file Public API of @seal/proto: the ts-proto code generated from proto/seal/v1, plus its descriptors. */
export * from './gen/seal/v1/types';
export * from './gen/seal/v1/student_service';
export * from './gen/seal/v1/teacher_service';
// The reader the generated decoders use: servers build one with a strict UTF-8 decoder (libs/rpc).
export { BinaryReader } from '@bufbuild/protobuf/wire';
export { loadFileDescriptorProtos, reflectionPackageDefinition, SEAL_SERVICE_NAMES } from './descriptors';
