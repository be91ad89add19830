/** @file Lint rules, and the module boundaries of ../shared/STYLE.md enforced by nx tags. */
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const bannedBelowApps = ['@grpc/*', '@seal/proto', '@opentelemetry/sdk-*', '@opentelemetry/instrumentation*'];

export default [
  { ignores: ['**/node_modules/**', '**/dist/**', 'libs/proto/src/gen/**', '**/gen/**', '.nx/**', 'runs/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: [],
          depConstraints: [
            { sourceTag: 'type:engine', onlyDependOnLibsWithTags: [], bannedExternalImports: bannedBelowApps },
            { sourceTag: 'type:model', onlyDependOnLibsWithTags: ['type:engine'], bannedExternalImports: bannedBelowApps },
            {
              sourceTag: 'type:domain',
              onlyDependOnLibsWithTags: ['type:domain', 'type:model', 'type:engine', 'type:infra'],
              bannedExternalImports: bannedBelowApps,
            },
            { sourceTag: 'type:infra', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'type:wire', onlyDependOnLibsWithTags: ['type:wire', 'type:domain', 'type:model', 'type:engine', 'type:infra'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:app', 'type:wire', 'type:domain', 'type:model', 'type:engine', 'type:infra'] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:wire', 'type:app', 'type:infra', 'type:domain', 'type:model', 'type:engine'] },
            { sourceTag: 'type:tools', onlyDependOnLibsWithTags: ['type:domain', 'type:model', 'type:engine', 'type:infra'] },
            { sourceTag: 'type:experiments', onlyDependOnLibsWithTags: ['type:app'] },
          ],
        },
      ],
    },
  },
];
