/** @file The README's test command: every project's vitest suite in one run. */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { projects: ['libs/*', 'apps/*', 'e2e'] },
});
