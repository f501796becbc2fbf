/** The variables that point the sample app at a real EZiD instead of the embedded emulator. */
export const EZID_ENV_VARS = [
  'EZID_CLIENT_ID',
  'EZID_CLIENT_SECRET',
  'EZID_API_URL',
  'EZID_JWKS_URI',
  'EZID_ISSUER',
] as const;

/** `'emulator'` when no EZID_* variable is set, `'real'` when all are; anything in between is an error. */
export function ezidMode(env: NodeJS.ProcessEnv = process.env): 'emulator' | 'real' {
  const set = EZID_ENV_VARS.filter((name) => env[name]);
  if (set.length === 0) return 'emulator';
  const missing = EZID_ENV_VARS.filter((name) => !env[name]);
  if (missing.length) {
    throw new Error(
      `To use a real EZiD, set all of ${EZID_ENV_VARS.join(', ')} (missing: ${missing.join(', ')}). ` +
        'Unset them all to run against the embedded emulator.',
    );
  }
  return 'real';
}
