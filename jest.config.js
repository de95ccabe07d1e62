/** Jest: ts-jest on the TypeScript sources; tests grouped by layer under test/. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json', }] },
  testTimeout: 30000,
  // One private temp root per run; the teardown fails the run when a test leaves files behind.
  globalSetup: '<rootDir>/test/globalSetup.ts',
  globalTeardown: '<rootDir>/test/globalTeardown.ts',
};
