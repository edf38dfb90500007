import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const NO_FRAMEWORKS = {
  group: ['discord.js', 'discord.js/*', '@discordjs/*', 'fastify', 'fastify/*', '@fastify/*', 'hono', 'hono/*'],
  message: 'The domain, the store and the kernel take ids and plain values; Discord and HTTP code translate at the edge.',
};
const NO_DOMAIN = {
  group: ['**/domain', '**/domain/**'],
  message: 'Nothing below the domain imports it: take the type or rule from src/shared, or move the call up into the domain.',
};
const NO_WAY_OUT_OF_THE_KERNEL = {
  group: ['../**'],
  message: 'src/shared is the kernel every layer imports; it imports nothing of the project outside itself.',
};

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'dist/', 'coverage/', '**/.tmp*'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['eslint.config.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // Migrations are frozen in time and typed against no schema, as Kysely's migration guide does.
    files: ['src/store/migrations/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  // The arrows of docs/architecture.md. A later block replaces an earlier one's patterns for the
  // same files, so each layer lists every arrow it must not draw.
  {
    files: ['src/domain/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [NO_FRAMEWORKS] }] },
  },
  {
    files: ['src/store/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [NO_FRAMEWORKS, NO_DOMAIN] }] },
  },
  {
    files: ['src/shared/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [NO_FRAMEWORKS, NO_DOMAIN, NO_WAY_OUT_OF_THE_KERNEL] }] },
  },
);
