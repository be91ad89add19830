/** @file Public API of @seal/model. */
export {};
