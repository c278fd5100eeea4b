// One Jest config for the whole workspace: unit tests (packages/*/test) and
// e2e tests (e2e/) share the RGW started once in globalSetup.
const swc = [
  '@swc/jest',
  {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'es6' },
  },
];

export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    '^@tus-s3/server$': '<rootDir>/packages/server/src/index.ts',
    '^@tus-s3/client$': '<rootDir>/packages/client/src/index.ts',
    '^@tus-s3/client/node$': '<rootDir>/packages/client/src/node.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: ['<rootDir>/packages/*/test/**/*.test.ts', '<rootDir>/e2e/**/*.test.ts'],
  globalSetup: '<rootDir>/scripts/jest-global-setup.js',
  globalTeardown: '<rootDir>/scripts/jest-global-teardown.js',
  testTimeout: 180_000,
  maxWorkers: 2,
};
