// House boundaries (../shared/ARCHITECTURE.md): core is pure, only src/vscode and src/extension.ts see 'vscode'.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const vscodeOnly = {
  name: 'vscode',
  message: "Only src/vscode/ and src/extension.ts may import 'vscode'. Put the logic in core/ or infra/ and call it from src/vscode/.",
};
const adapterLibs = [
  vscodeOnly,
  { name: '@kubernetes/client-node', message: 'src/core is pure: reach the cluster through ClusterPort/EventsPort (src/core/ports.ts); the adapter lives in src/infra/kubernetes.' },
  { name: 'axios', message: 'src/core is pure: reach HTTP through a port; the adapter lives in src/infra.' },
];
const adapterPatterns = [
  { group: ['@tensorflow/*'], message: 'src/core is pure: score through ModelPort; tfjs lives in src/infra/tfjs.' },
  { group: ['**/infra/**', '**/vscode/**', '**/sandbox/**', '**/cli/**'], message: 'src/core may not import adapters, the sandbox, the CLI or the UI.' },
];

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'media/dist/**', 'node_modules/**', '.cache/**', 'test/fixtures/**', 'models/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { paths: [vscodeOnly] }],
    },
  },
  {
    files: ['src/vscode/**/*.ts', 'src/extension.ts', 'test/e2e/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // tests load the built bundles with require() on purpose
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: adapterLibs, patterns: adapterPatterns }] },
  },
  {
    files: ['scripts/**/*.mjs', 'scripts/**/*.js', 'eslint.config.mjs', 'webpack.config.js'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', require: 'readonly', module: 'writable', __dirname: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', Buffer: 'readonly', fetch: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
