import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createNodeResolver } from 'eslint-plugin-import-x';

const NO_FRAMEWORKS = {
  group: ['discord.js', 'discord.js/*', '@discordjs/*', 'fastify', 'fastify/*', '@fastify/*', 'hono', 'hono/*'],
  message: 'The domain, the store and the kernel take ids and plain values; Discord and HTTP code translate at the edge.',
};

// The layers of docs/architecture.md, lowest first. Each may import only what it lists; every
// import is resolved to its file (the `.js` of a TypeScript import standing for its `.ts`), so
// no way of writing the path escapes the rule.
const SOURCE = ['shared', 'store', 'domain', 'discord', 'commands', 'http', 'jobs', 'events', 'cli', 'sandbox'];
const TOP_FILES = ['config.ts', 'logger.ts', 'startup.ts', 'bot.ts', 'services.ts', 'index.ts', 'deploy-commands.ts'];
const MAY_IMPORT = {
  shared: [],
  store: ['shared'],
  domain: ['store', 'shared'],
  discord: ['domain', 'store', 'shared', 'logger.ts'],
  commands: ['discord', 'domain', 'store', 'shared', 'config.ts', 'logger.ts'],
  http: ['domain', 'store', 'shared', 'config.ts', 'logger.ts'],
  jobs: ['discord', 'domain', 'store', 'shared', 'config.ts', 'logger.ts'],
  events: ['commands', 'discord', 'domain', 'store', 'shared', 'logger.ts'],
  cli: ['domain', 'store', 'shared', 'config.ts', 'logger.ts', 'startup.ts'],
};
const LAYER_ZONES = Object.entries(MAY_IMPORT).map(([layer, allowed]) => ({
  target: `./src/${layer}`,
  from: [...SOURCE, ...TOP_FILES].filter((other) => other !== layer && !allowed.includes(other)).map((other) => `./src/${other}`),
  message: `src/${layer} may import only ${allowed.length ? allowed.map((a) => `src/${a}`).join(', ') : 'itself'} (docs/architecture.md, "Layers").`,
}));
const OUTSIDE_ZONES = [
  { target: './src', from: ['./test', './bench', './scripts'], message: 'The product never imports its tests, benchmarks or scripts.' },
  { target: './scripts', from: ['./test'], message: 'Scripts stand on their own: what a script and a test share lives in src/ or scripts/.' },
  { target: './bench', from: ['./test'], message: 'Benchmarks stand on their own: what a benchmark and a test share lives in src/ or bench/.' },
];

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
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createNodeResolver({ extensionAlias: { '.js': ['.ts', '.js'] } })] },
    rules: { 'import-x/no-restricted-paths': ['error', { zones: [...LAYER_ZONES, ...OUTSIDE_ZONES] }] },
  },
  // Discord and HTTP stay at the edge: the kernel, the store and the domain take ids and plain values.
  {
    files: ['src/domain/**/*.ts', 'src/store/**/*.ts', 'src/shared/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [NO_FRAMEWORKS] }] },
  },
);
