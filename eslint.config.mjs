// The linter of src/, test/, bench/, demo/ and scripts/, run by `npm run lint` (part of `npm test`):
// typescript-eslint's recommended rules, no console (the library logs through Nest's Logger), and at most 300 lines
// per file of src/.
import eslint from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', '**/node_modules/'] },
  eslint.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      'no-console': 'error',
      // A leading underscore names what is taken only to be left out (`{ secret: _secret, ...rest }`).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  {
    // One concern per file: a file of src/ past 300 lines (Prettier's lines, comments included) is split.
    files: ['src/**/*.ts'],
    rules: { 'max-lines': ['error', { max: 300 }] },
  },
  {
    // Plain CommonJS scripts (the build's helpers, the consumer apps' scenario, tool configs) run on Node as they are.
    files: ['**/*.cjs', '**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The consumer apps' own Jest specs.
    files: ['test/consumers/**/*.test.js'],
    languageOptions: { globals: { ...globals.jest } },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { globals: { ...globals.node } },
  },
);
