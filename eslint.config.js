import regexp from 'eslint-plugin-regexp';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.data/**', 'coverage/**'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    // A pattern that can backtrack super-linearly is a denial of service wherever text from
    // outside reaches it (issue 19): an error everywhere, so none comes back.
    plugins: { regexp },
    rules: {
      'regexp/no-super-linear-backtracking': 'error',
      'regexp/no-super-linear-move': 'error',
    },
  },
  {
    files: [
      'src/signing/**/*.ts',
      'test/unit/signing/**/*.ts',
      'test/security/**/*.ts',
      'test/helpers/hostile-bodies.ts',
    ],
    ...regexp.configs['flat/recommended'],
  },
  {
    files: ['src/signing/**/*.ts'],
    rules: {
      'regexp/no-super-linear-backtracking': 'error',
      'regexp/no-super-linear-move': 'error',
    },
  },
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's describe/it return promises that the runner itself tracks.
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/only-throw-error': 'error',
      'no-console': ['error', { allow: ['error', 'warn'] }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'src/cli/**/*.ts', 'src/local/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    // Types the server and the console's browser build share (docs/architecture.md): they import
    // nothing, so no Node module can reach the browser through them. The console's tsconfig cannot
    // tell, because vite's own types bring Node's in.
    files: [
      'src/contracts/dead-letter.ts',
      'src/contracts/reply-explanation.ts',
      'src/contracts/service-status.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['*'], message: 'a contract shared with the browser imports nothing' }] },
      ],
    },
  },
  { files: ['eslint.config.js'], ...tseslint.configs.disableTypeChecked },
);
