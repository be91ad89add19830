/** @file Public API of @seal/rpc. */
export {};
