/** Where the apps under test find the identity provider (the emulator run by bench/run.js). */
export interface BenchIdp {
  clientId: string;
  clientSecret: string;
  apiBaseUrl: string;
  jwksUri: string;
  issuer: string;
}

/** Reads the identity provider from the environment set by bench/run.js. */
export function idpFromEnv(env: NodeJS.ProcessEnv = process.env): BenchIdp {
  const get = (name: string): string => {
    const v = env[name];
    if (!v) throw new Error(`${name} is not set (run the bench with npm run bench)`);
    return v;
  };
  return {
    clientId: get('BENCH_CLIENT_ID'),
    clientSecret: get('BENCH_CLIENT_SECRET'),
    apiBaseUrl: get('BENCH_API_URL'),
    jwksUri: get('BENCH_JWKS_URI'),
    issuer: get('BENCH_ISSUER'),
  };
}
