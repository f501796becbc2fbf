/**
 * Checklist B6: Project Wycheproof's RSA signature vectors (../shared/vectors/wycheproof, beside the
 * repository) through `verifySignature`, the very function `EzidTokenVerifier` calls after the claim
 * checks, with the key loaded by `StaticKeySource` (the `token.publicKey` path). Every `valid` vector
 * must verify, every `invalid` one must not, and every `acceptable` one must follow the decision in
 * ACCEPTABLE below (a new flag fails the suite until someone decides it).
 *
 * The verifier allows only RS256 by default; the RS384/RS512 files and the PSS file drive the same
 * function with `alg` RS384/RS512/PS256, which an app gets with `token.algorithms`.
 * These double as a canary for Node/OpenSSL upgrades.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { verifySignature } from '../../src/auth/ezid-token-verifier';
import { StaticKeySource } from '../../src/auth/jwks-key-source';

const DIR = process.env.WYCHEPROOF_DIR ?? path.resolve(__dirname, '../../../shared/vectors/wycheproof');

const FILES = [
  'rsa_signature_2048_sha256_test.json',
  'rsa_signature_2048_sha384_test.json',
  'rsa_signature_2048_sha512_test.json',
  'rsa_signature_3072_sha256_test.json',
  'rsa_signature_4096_sha512_test.json',
  'rsa_pss_2048_sha256_mgf1_32_test.json',
];

/**
 * The decision for each flag Wycheproof marks `acceptable` (may go either way): `false` = rejected.
 * - MissingNull (LEGACY): a PKCS#1 v1.5 DigestInfo whose hash AlgorithmIdentifier omits the NULL
 *   parameters. Rejected: OpenSSL re-encodes the expected DigestInfo (with NULL, RFC 8017 §9.2 note 1)
 *   and compares bytes, so exactly one encoding verifies. No JWS signer emits the legacy form, and
 *   accepting it would only widen what the verifier parses.
 */
const ACCEPTABLE: Record<string, boolean> = { MissingNull: false };

interface Vector {
  tcId: number;
  comment: string;
  msg: string;
  sig: string;
  result: 'valid' | 'invalid' | 'acceptable';
  flags: string[];
}
interface Group {
  keySize: number;
  sha: string;
  type: string;
  mgf?: string;
  mgfSha?: string;
  sLen?: number;
  publicKeyPem: string;
  tests: Vector[];
}
interface VectorFile {
  algorithm: string;
  numberOfTests: number;
  testGroups: Group[];
}

const SHA_BITS: Record<string, number> = { 'SHA-256': 256, 'SHA-384': 384, 'SHA-512': 512 };

function algOf(file: VectorFile, g: Group): string {
  const bits = SHA_BITS[g.sha];
  if (!bits) throw new Error(`unexpected hash ${g.sha}`);
  if (file.algorithm === 'RSASSA-PKCS1-v1_5') return `RS${bits}`;
  if (file.algorithm === 'RSASSA-PSS') {
    // JWS PSS (RFC 7518 §3.5): MGF1 with the same hash, salt length = hash length. Other groups are not JWS.
    expect({ mgf: g.mgf, mgfSha: g.mgfSha, sLen: g.sLen }).toEqual({
      mgf: 'MGF1',
      mgfSha: g.sha,
      sLen: bits / 8,
    });
    return `PS${bits}`;
  }
  throw new Error(`unexpected algorithm ${file.algorithm}`);
}

it('the Wycheproof vectors are present beside the repository', () => {
  for (const f of FILES) expect({ f, exists: fs.existsSync(path.join(DIR, f)) }).toEqual({ f, exists: true });
});

describe.each(FILES)('Wycheproof %s through the verifier signature check', (name) => {
  const file = JSON.parse(fs.readFileSync(path.join(DIR, name), 'utf8')) as VectorFile;

  it('every valid vector verifies, every invalid one is rejected, acceptable ones as decided', () => {
    const wrong: string[] = [];
    const seen = { valid: 0, invalid: 0, acceptable: 0 };
    for (const g of file.testGroups) {
      const alg = algOf(file, g);
      const vk = new StaticKeySource(g.publicKeyPem).getKey();
      expect(vk.key.asymmetricKeyDetails?.modulusLength).toBe(g.keySize);
      for (const t of g.tests) {
        seen[t.result]++;
        const ok = verifySignature(
          {
            header: { alg },
            signingInput: Buffer.from(t.msg, 'hex').toString('latin1'),
            signature: Buffer.from(t.sig, 'hex'),
          },
          vk,
        );
        let expected: boolean;
        if (t.result === 'acceptable') {
          const decided = t.flags.filter((f) => f in ACCEPTABLE);
          if (decided.length !== 1)
            throw new Error(`tcId ${t.tcId}: no decision for flags ${t.flags.join()}`);
          expected = ACCEPTABLE[decided[0]];
        } else expected = t.result === 'valid';
        if (ok !== expected)
          wrong.push(`${alg} tcId ${t.tcId} (${t.result}, ${t.flags.join('+')}, ${t.comment}): got ${ok}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(seen.valid + seen.invalid + seen.acceptable).toBe(file.numberOfTests);
    expect(seen.valid).toBeGreaterThan(0);
    expect(seen.invalid).toBeGreaterThan(0);
  });
});

describe('the signature check itself', () => {
  const file = JSON.parse(
    fs.readFileSync(path.join(DIR, 'rsa_signature_2048_sha256_test.json'), 'utf8'),
  ) as VectorFile;
  const g = file.testGroups[0];
  const vk = new StaticKeySource(g.publicKeyPem).getKey();
  const t = g.tests.find((v) => v.result === 'valid')!;
  const jws = (alg: string) => ({
    header: { alg },
    signingInput: Buffer.from(t.msg, 'hex').toString('latin1'),
    signature: Buffer.from(t.sig, 'hex'),
  });

  it('binds the algorithm: a valid RS256 signature fails as RS384, PS256, HS256, none or a prototype key', () => {
    expect(verifySignature(jws('RS256'), vk)).toBe(true);
    for (const alg of ['RS384', 'RS512', 'PS256', 'HS256', 'none', 'rs256', 'constructor', '__proto__'])
      expect({ alg, ok: verifySignature(jws(alg), vk) }).toEqual({ alg, ok: false });
  });
});
