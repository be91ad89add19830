/** @file Public API of @seal/tasks. */
export {};
