/** @file Public API of @seal/coordinator. */
export * from './errors';
export * from './roles';
export * from './seeds';
