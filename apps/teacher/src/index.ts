/** @file Public API of @seal/teacher: the TeacherService server. */
export { teacherConfigSchema, type TeacherConfig } from './config';
export { createTeacherService, type TeacherServiceDeps } from './teacher-service';
export { serveTeacher, TEACHER_VERSION } from './serve';
