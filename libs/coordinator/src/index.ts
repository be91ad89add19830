/** @file Public API of @seal/coordinator. */
export {};
