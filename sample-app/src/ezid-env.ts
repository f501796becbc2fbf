import { isIP } from 'node:net';

/** The variables that point the sample app at a real EZiD instead of the embedded emulator. */
export const EZID_ENV_VARS = [
  'EZID_CLIENT_ID',
  'EZID_CLIENT_SECRET',
  'EZID_API_URL',
  'EZID_JWKS_URI',
  'EZID_ISSUER',
] as const;

/** Where the sample app listens, which identity provider it uses and the public URL it is reached at. */
export interface SampleAppConfig {
  /** `'emulator'` embeds the EZiD emulator and the dev inbox; `'real'` talks to the EZiD in the EZID_* variables. */
  mode: 'emulator' | 'real';
  /** The interface the app listens on (HOST, default 127.0.0.1). */
  host: string;
  /** PORT (default 3000); 0 picks a free port. */
  port: number;
  /** PUBLIC_URL; in emulator mode it defaults to `http://localhost:<port>`. */
  publicUrl?: string;
}

/** Thrown for a configuration the sample app refuses to start with. */
export class SampleAppConfigError extends Error {
  override readonly name = 'SampleAppConfigError';
}

const set = (value: string | undefined): value is string => value !== undefined && value !== '';

/** True for `localhost`, 127.0.0.0/8 and ::1 (also in their bracketed or IPv4-mapped forms). */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\.\d+\.\d+\.\d+$/.test(h);
  return false;
}

/**
 * True when NODE_ENV names production in any usual spelling: trimmed and case-insensitive, `production`
 * or `prod` (`Production`, ` production`, `PROD`). Anything else (unset, `development`, `test`) is not.
 */
export function isProductionEnv(nodeEnv: string | undefined): boolean {
  const v = (nodeEnv ?? '').trim().toLowerCase();
  return v === 'production' || v === 'prod';
}

/** True when `value` is an http(s) URL whose host is loopback (see `isLoopbackHost`), without userinfo. */
export function isLoopbackUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return (
    (url.protocol === 'http:' || url.protocol === 'https:') &&
    !url.username &&
    !url.password &&
    isLoopbackHost(url.hostname)
  );
}

/**
 * `'emulator'` when no `EZID_*` variable is set, `'real'` when any is (every mandatory one must then be
 * set: the error lists the missing ones). Any `EZID_*` variable counts, so a lone `EZID_AUDIENCE` never
 * silently selects the emulator.
 */
export function ezidMode(env: NodeJS.ProcessEnv = process.env): 'emulator' | 'real' {
  const given = Object.keys(env).filter((name) => name.startsWith('EZID_') && set(env[name]));
  if (given.length === 0) return 'emulator';
  const missing = EZID_ENV_VARS.filter((name) => !set(env[name]));
  if (missing.length) {
    throw new SampleAppConfigError(
      `To use a real EZiD, set all of ${EZID_ENV_VARS.join(', ')} (missing: ${missing.join(', ')}; ` +
        `set: ${given.sort().join(', ')}). Unset every EZID_* variable to run against the embedded emulator.`,
    );
  }
  return 'real';
}

/**
 * Reads and checks the sample app's environment. The embedded emulator (with its public dev inbox) is a
 * development tool: it is refused with `NODE_ENV=production` (any spelling, see `isProductionEnv`), on
 * any HOST that is not loopback and with a PUBLIC_URL that is not a loopback URL (the PUBLIC_URL value is
 * never echoed: it may carry credentials). Real
 * mode requires PUBLIC_URL, which decides the cookies' `Secure` flag and `__Host-` prefix.
 */
export function sampleAppConfig(env: NodeJS.ProcessEnv = process.env): SampleAppConfig {
  const mode = ezidMode(env);
  const host = set(env.HOST) ? env.HOST : '127.0.0.1';
  const port = set(env.PORT) ? Number(env.PORT) : 3000;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new SampleAppConfigError(
      `PORT must be an integer from 0 to 65535 (got ${JSON.stringify(env.PORT)}).`,
    );
  }
  if (mode === 'emulator') {
    if (isProductionEnv(env.NODE_ENV)) {
      throw new SampleAppConfigError(
        'Refusing to embed the EZiD emulator with NODE_ENV=production: it signs in anyone through its dev ' +
          `inbox. Set ${EZID_ENV_VARS.join(', ')} and PUBLIC_URL to use a real EZiD.`,
      );
    }
    if (!isLoopbackHost(host)) {
      throw new SampleAppConfigError(
        `Refusing to embed the EZiD emulator on HOST=${host}: it signs in anyone through its dev inbox, so ` +
          'it only listens on loopback (127.0.0.1, ::1 or localhost). Set the EZID_* variables to use a real EZiD.',
      );
    }
    if (set(env.PUBLIC_URL) && !isLoopbackUrl(env.PUBLIC_URL)) {
      throw new SampleAppConfigError(
        'Refusing to embed the EZiD emulator with a PUBLIC_URL that is not a loopback http(s) URL: magic ' +
          'links and the dev inbox would be offered beyond this machine. Use http://localhost:<port> (or ' +
          'unset PUBLIC_URL), or set the EZID_* variables to use a real EZiD.',
      );
    }
    return { mode, host, port, publicUrl: set(env.PUBLIC_URL) ? env.PUBLIC_URL : undefined };
  }
  if (!set(env.PUBLIC_URL)) {
    throw new SampleAppConfigError(
      'PUBLIC_URL is required with a real EZiD (e.g. https://app.example.com): it is where EZiD sends users ' +
        'back, and an https URL gives the session cookies Secure and the __Host- prefix.',
    );
  }
  return { mode, host, port, publicUrl: env.PUBLIC_URL };
}
