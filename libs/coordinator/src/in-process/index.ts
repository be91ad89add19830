/** @file In-process Teacher and Student on libs/model (`@seal/coordinator/in-process`): a subpath, so importing the domain API does not load onnxruntime. */
export { InProcessStudent, adapterFeedsSha256, type InProcessStudentOptions } from './in-process-student';
export { InProcessTeacher, type InProcessTeacherOptions } from './in-process-teacher';
export { ModelStore, refOfDir, WEIGHTS_FILE } from './model-store';
export { createInProcessRoles, type InProcessRolesOptions } from './in-process-roles';
