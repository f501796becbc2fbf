// @swc/jest transforms TypeScript and the ESM-only packages (Nest 12, jose 6) to CommonJS, so the
// whole suite runs in jest's CommonJS mode on Node 20 with no flags. swc does not type-check:
// `npm test` runs `tsc --noEmit` first.
const swcTs = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
  },
  module: { type: 'commonjs' },
};
const swcJs = {
  jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' },
  module: { type: 'commonjs' },
};
const esmPackages = [
  '@nestjs',
  'jose',
  'file-type',
  'load-esm',
  'uid',
  'strtok3',
  'token-types',
  '@tokenizer',
  'uint8array-extras',
  'otplib',
  '@otplib',
  '@noble',
  '@scure',
  // mercurius -> @fastify/static -> content-disposition 3 (ESM-only), nested under @fastify/static
  '@fastify/static/node_modules/content-disposition',
  'content-disposition',
  // @apidevtools/swagger-parser (the OpenAPI validator of the openapi suite) -> json-schema-ref-parser (ESM-only)
  '@apidevtools',
];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test', '<rootDir>/sample-app'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  // test/consumer holds user apps with their own dependencies; .ci/consumer-check.sh runs them.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/consumer/'],
  modulePathIgnorePatterns: ['<rootDir>/test/consumer/'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', swcTs],
    '^.+\\.m?js$': ['@swc/jest', swcJs],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmPackages.join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  // The sample app and the README examples import the package by name; tests run it from source.
  moduleNameMapper: {
    '^nestjs-ezid$': '<rootDir>/src/index.ts',
    '^nestjs-ezid/testing$': '<rootDir>/src/testing/index.ts',
  },
  testTimeout: 30000,
  maxWorkers: 2,
};
