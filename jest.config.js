/** Jest: ts-jest on the TypeScript sources; tests grouped by layer under test/. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json', }] },
  testTimeout: 30000,
};
