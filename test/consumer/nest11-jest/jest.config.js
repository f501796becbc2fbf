// jest in CommonJS mode with @swc/jest, which also transforms the ESM-only packages (Nest 12, jose 6)
// to CommonJS: this loads them on Node 20, 22 and 24 with no Node flags. swc does not type-check
// (run `tsc --noEmit`); decoratorMetadata gives Nest the constructor types it injects by.
const swc = (syntax) => ({
  jsc: {
    parser: syntax === 'typescript' ? { syntax, decorators: true } : { syntax },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
  },
  module: { type: 'commonjs' },
});
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
];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  testRegex: '\\.e2e-spec\\.ts$',
  transform: {
    '^.+\\.ts$': ['@swc/jest', swc('typescript')],
    '^.+\\.m?js$': ['@swc/jest', swc('ecmascript')],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmPackages.join('|')})/)`],
};
