/** Jest: ts-jest on the TypeScript sources; tests grouped by layer under test/. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The e2e suite against the real Claude CLI runs on its own (npm run test:e2e) until it is
  // green; it is NOT part of `npm test` yet (see test/e2e/README.md).
  testPathIgnorePatterns: process.env.CW_E2E ? [] : ['\\.e2e\\.test\\.ts$'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json', }] },
  testTimeout: 30000,
};
