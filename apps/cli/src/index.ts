/** @file Public API of @seal/cli. */
export {};
