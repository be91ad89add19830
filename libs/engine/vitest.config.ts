/** @file Vitest settings for @seal/engine: tests beside the code, generous timeouts for ORT session creation on a busy machine. */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { include: ['src/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 },
});
