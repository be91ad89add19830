/** @file Public API of @seal/student. */
export {};
