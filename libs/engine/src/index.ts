/** @file Public API of @seal/engine. */
export {};
