import { createPublicKey, verify } from 'node:crypto';
import { resolveEzidOptions } from '../../src/ezid-options.validation';
import type { EzidModuleOptions } from '../../src/ezid.options';
import { EzidService } from '../../src/client';
import { EzidEmulator } from '../../src/testing';

export const CLIENT_ID = 'cli_cq2k021saqbs710j7ftg.edce2d27';
export const CLIENT_SECRET = 'sec_Zm9vYmFyYmF6cXV4LXRoaXMtaXMtc2VjcmV0';

/** An EzidService against the emulator, built exactly as the module builds it. */
export function serviceFor(emulator: EzidEmulator, overrides: Partial<EzidModuleOptions> = {}): EzidService {
  return new EzidService(
    resolveEzidOptions({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      apiBaseUrl: emulator.url,
      token: { jwksUri: emulator.jwksUri, issuer: emulator.issuer },
      ...overrides,
    }),
  );
}

export function decodeJwt(token: string): {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
} {
  const [h, p] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(p, 'base64url').toString()),
  };
}

/** Verifies an RS256 token against the emulator's published JWKS (fetched over HTTP). */
export async function verifiesAgainstJwks(emulator: EzidEmulator, token: string): Promise<boolean> {
  const { keys } = (await (await fetch(emulator.jwksUri)).json()) as { keys: Record<string, unknown>[] };
  const { header } = decodeJwt(token);
  const jwk = keys.find((k) => k.kid === header.kid);
  if (!jwk || header.alg !== 'RS256') return false;
  const [h, p, s] = token.split('.');
  return verify(
    'sha256',
    Buffer.from(`${h}.${p}`),
    createPublicKey({ key: jwk as never, format: 'jwk' }),
    Buffer.from(s, 'base64url'),
  );
}

/** Resolves to the rejection of a promise (fails the test if it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}
