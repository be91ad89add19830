/** @file Public API of @seal/student: the StudentService server. */
export { studentConfigSchema, type StudentConfig } from './config';
export { createStudentService, type StudentServiceDeps } from './student-service';
export { serveStudent, STUDENT_VERSION } from './serve';
