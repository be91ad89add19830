/** @file Public API of @seal/coordinator: roles, run config, journal, rewards, selection, the student pool and the SEAL driver. */
export * from './errors';
export * from './roles';
export * from './seeds';
export * from './config';
export * from './journal';
export * from './evaluation';
export * from './reward';
export * from './selection';
export * from './retry';
export * from './student-pool';
export * from './rest-em';
export * from './evaluate-table';
export * from './checkpoint-archive';
export * from './checkpoint-push';
