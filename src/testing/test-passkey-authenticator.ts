import { KeyObject, createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';

/**
 * A software WebAuthn authenticator (ECDSA P-256) for tests against the emulator: it answers the
 * `publicKey` options of `passkeys.registerStart()` / `loginStart()` the way a browser's
 * `navigator.credentials.create()` / `get()` would, serialised as JSON.
 */
export class TestPasskeyAuthenticator {
  private readonly credentials = new Map<
    string,
    { privateKey: KeyObject; userHandle: string; signCount: number }
  >();

  constructor(private readonly origin = 'http://localhost') {}

  /** A registration response for `passkeys.registerFinish()`. */
  create(publicKey: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const { privateKey, publicKey: pub } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const id = randomBytes(16).toString('base64url');
    const user = (publicKey.user ?? {}) as { id?: string };
    this.credentials.set(id, { privateKey, userHandle: user.id ?? '', signCount: 0 });
    const clientDataJSON = this.clientData('webauthn.create', String(publicKey.challenge));
    return {
      id,
      rawId: id,
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: {
        clientDataJSON,
        attestationObject: '',
        publicKey: pub.export({ type: 'spki', format: 'der' }).toString('base64url'),
        publicKeyAlgorithm: -7,
        transports: ['internal'],
      },
    };
  }

  /** An assertion for `passkeys.loginFinish()`, signed by `credentialId` (default: the first one). */
  get(publicKey: Readonly<Record<string, unknown>>, credentialId?: string): Record<string, unknown> {
    const id = credentialId ?? [...this.credentials.keys()][0];
    const cred = id ? this.credentials.get(id) : undefined;
    if (!cred) throw new Error('TestPasskeyAuthenticator: no such credential');
    cred.signCount += 1;
    const rpId = typeof publicKey.rpId === 'string' ? publicKey.rpId : 'localhost';
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(cred.signCount);
    const authenticatorData = Buffer.concat([
      createHash('sha256').update(rpId).digest(),
      Buffer.from([0x05]),
      counter,
    ]);
    const clientDataJSON = this.clientData('webauthn.get', String(publicKey.challenge));
    const signature = sign(
      'sha256',
      Buffer.concat([
        authenticatorData,
        createHash('sha256').update(Buffer.from(clientDataJSON, 'base64url')).digest(),
      ]),
      cred.privateKey,
    );
    return {
      id,
      rawId: id,
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: {
        authenticatorData: authenticatorData.toString('base64url'),
        clientDataJSON,
        signature: signature.toString('base64url'),
        userHandle: cred.userHandle,
      },
    };
  }

  private clientData(type: string, challenge: string): string {
    return Buffer.from(JSON.stringify({ type, challenge, origin: this.origin, crossOrigin: false })).toString(
      'base64url',
    );
  }
}
