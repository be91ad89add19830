/** @file Public API of @seal/proto. */
export {};
