import { KeyObject, constants, createHmac, generateKeyPairSync, randomBytes, sign } from 'node:crypto';

/** Signing algorithms the emulator can produce (including deliberately unacceptable ones). */
export type EmulatorSigningAlgorithm =
  'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'HS256' | 'none';

/** An RSA key pair of the emulator, with its `kid`. */
export interface EmulatorKeyPair {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** A random 24-hex id, like EZiD's Mongo ObjectIds. */
export function objectId(): string {
  return randomBytes(12).toString('hex');
}

/** Generates an RSA key pair (`bits`, default 2048) with a 24-hex `kid`. */
export function generateEmulatorKey(bits = 2048, kid: string = objectId()): EmulatorKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return { kid, privateKey, publicKey };
}

/** base64url of a string or buffer. */
export function b64url(input: string | Buffer): string {
  return Buffer.from(input).toString('base64url');
}

/**
 * Signs a compact JWS. `header` is used as given (callers set `alg`); `algorithm` picks the actual
 * signature, so a mismatch between the two can be produced on purpose.
 */
export function signJws(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  algorithm: EmulatorSigningAlgorithm,
  key: KeyObject | undefined,
  hmacSecret?: string | Buffer,
): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  let signature: Buffer;
  switch (algorithm) {
    case 'none':
      signature = Buffer.alloc(0);
      break;
    case 'HS256':
      if (hmacSecret === undefined) throw new TypeError('HS256 needs hmacSecret');
      signature = createHmac('sha256', hmacSecret).update(input).digest();
      break;
    default: {
      if (!key) throw new TypeError(`${algorithm} needs a private key`);
      const hash = `sha${algorithm.slice(2)}`;
      signature = algorithm.startsWith('PS')
        ? sign(hash, Buffer.from(input), {
            key,
            padding: constants.RSA_PKCS1_PSS_PADDING,
            saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
          })
        : sign(hash, Buffer.from(input), key);
    }
  }
  return `${input}.${b64url(signature)}`;
}

/** Signs an HS256 JWT (the emulator's opaque-to-clients legacy `auth_code`). */
export function signHs256(payload: Record<string, unknown>, secret: Buffer): string {
  return signJws({ alg: 'HS256', typ: 'JWT' }, payload, 'HS256', undefined, secret);
}

/** Verifies and decodes an HS256 JWT signed by `signHs256`; `undefined` when invalid or expired. */
export function verifyHs256(
  token: string,
  secret: Buffer,
  nowSec: number,
): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const expected = createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest('base64url');
  if (expected.length !== parts[2].length || expected !== parts[2]) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    if (typeof payload.exp !== 'number' || payload.exp <= nowSec) return undefined;
    return payload;
  } catch {
    return undefined;
  }
}

/** The public JWK of a key pair (`kty, n, e, kid, use: 'sig', alg: 'RS256'`). */
export function publicJwk(key: EmulatorKeyPair): Record<string, unknown> {
  const jwk = key.publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
  return { kty: jwk.kty, kid: key.kid, use: 'sig', alg: 'RS256', n: jwk.n, e: jwk.e };
}
