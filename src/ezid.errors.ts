/**
 * Base class of every error nestjs-ezid throws outside a request (configuration, client calls).
 * Request-time failures are Nest `HttpException`s instead (see `EzidHttpException`).
 */
export class EzidError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

/** One invalid option: its dotted path and what is wrong with it. Never carries a secret value. */
export interface EzidConfigurationIssue {
  path: string;
  problem: string;
}

/**
 * Thrown at boot (module instantiation, so `NestFactory.create` / `app.init()` / `compile()` fail)
 * when `EzidModule.forRoot()` / `forRootAsync()` receives an invalid configuration.
 * The message lists every invalid field at once; secret values are never included.
 */
export class EzidConfigurationError extends EzidError {
  readonly issues: readonly EzidConfigurationIssue[];

  constructor(message: string, issues: EzidConfigurationIssue[]) {
    super(message);
    this.issues = Object.freeze(issues.map((i) => Object.freeze({ ...i })));
  }

  static create(issues: EzidConfigurationIssue[]): EzidConfigurationError {
    const lines = issues.map((i) => `  - ${i.path}: ${i.problem}`);
    const message =
      `Invalid EzidModule configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n` +
      `${lines.join('\n')}\n` +
      'Potential solutions:\n' +
      '  - Fix the fields above in the options passed to EzidModule.forRoot() or returned by the forRootAsync() factory.\n' +
      '  - Check that every environment variable the options read is set (EZID_CLIENT_ID, EZID_JWKS_URI, EZID_ISSUER, ...).\n' +
      '  - See the "Options" section of the nestjs-ezid README for every option and its default.';
    return new EzidConfigurationError(message, issues);
  }
}
