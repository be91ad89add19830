/** @file The committed descriptor set matches the generated services it is served beside. */
import { describe, expect, it } from 'vitest';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { fromBinary } from '@bufbuild/protobuf';
import { loadFileDescriptorProtos, SEAL_SERVICE_NAMES, StudentServiceService, TeacherServiceService } from './index';

describe('descriptor set', () => {
  const files = loadFileDescriptorProtos().map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));

  it('holds the three seal.v1 files', () => {
    expect(files.map((f) => f.name).sort()).toEqual([
      'seal/v1/student_service.proto',
      'seal/v1/teacher_service.proto',
      'seal/v1/types.proto',
    ]);
  });

  it('declares exactly the services and methods the generated code serves', () => {
    const declared = files.flatMap((f) => f.service.map((s) => [`${f.package}.${s.name}`, s.method.map((m) => m.name)] as const));
    expect(declared.map(([name]) => name).sort()).toEqual([...SEAL_SERVICE_NAMES].sort());
    const generated = { 'seal.v1.StudentService': StudentServiceService, 'seal.v1.TeacherService': TeacherServiceService };
    for (const [name, methods] of declared) {
      const service = generated[name as keyof typeof generated];
      expect(Object.values(service).map((m) => m.path.split('/')[2]).sort()).toEqual([...methods].sort());
    }
  });
});
