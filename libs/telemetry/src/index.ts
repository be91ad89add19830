/** @file Public API of @seal/telemetry. */
export {};
