/** @file Public API of @seal/proto: the ts-proto code generated from proto/seal/v1, plus its descriptors. */
export * from './gen/seal/v1/types';
export * from './gen/seal/v1/student_service';
export * from './gen/seal/v1/teacher_service';
export { loadFileDescriptorProtos, reflectionPackageDefinition, SEAL_SERVICE_NAMES } from './descriptors';
