/** @file Test doubles for the roles (`@seal/coordinator/testing`): deterministic, for orchestration tests only. */
export * from './deterministic-roles';
export * from './temp-dirs';
