import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.provisioner/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/ban-ts-comment': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-properties': [
        'error',
        { object: 'describe', property: 'only', message: 'Focused tests hide failures.' },
        { object: 'describe', property: 'skip', message: 'Skipped tests hide failures.' },
        { object: 'it', property: 'only', message: 'Focused tests hide failures.' },
        { object: 'it', property: 'skip', message: 'Skipped tests hide failures.' },
        { object: 'test', property: 'only', message: 'Focused tests hide failures.' },
        { object: 'test', property: 'skip', message: 'Skipped tests hide failures.' },
      ],
    },
  },
  {
    // The console runs in a browser.
    files: ['web/src/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // Tests read JSON responses loosely on purpose; their assertions do the typing.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
