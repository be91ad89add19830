/** @file Public API of @seal/teacher. */
export {};
