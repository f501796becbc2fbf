import { createHash, randomBytes } from 'node:crypto';
import type * as Otplib from 'otplib';
import type * as QRCodeModule from 'qrcode';
import type { EzidEndpointName } from '../client/ezid-endpoints';
import { objectId } from './emulator-jwt';
import {
  EmulatorHandler,
  EmulatorRequest,
  apiError,
  MAX_CODE_ATTEMPTS,
  bad,
  bearerUser,
  ok,
  str,
  tokenAndProfile,
} from './emulator-handlers';
import { management } from './emulator-management.handlers';
import type { StoredTotp, StoredUser } from './emulator-store';
import type { EzidEmulator } from './ezid-emulator';

/** `issuer` of the emulator's otpauth URIs. */
const TOTP_ISSUER = 'EZiD Emulator';
const BACKUP_CODE_COUNT = 10;
const BACKUP_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/**
 * otplib and qrcode are optional peer dependencies of nestjs-ezid: only the emulator's MFA endpoints use
 * them, so an app's production install does not pull them in. They are loaded on first use.
 */
class MissingPeerError extends Error {}

function optionalPeer<T>(name: string): T {
  try {
    return require(name) as T;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e?.code === 'MODULE_NOT_FOUND' && String(e.message).includes(`'${name}'`)) {
      throw new MissingPeerError(
        `The EZiD emulator's MFA endpoints need the optional peer dependency "${name}" ` +
          `(npm install --save-dev otplib qrcode)`,
      );
    }
    throw err;
  }
}
const otplib = () => optionalPeer<typeof Otplib>('otplib');
const qrcode = () => optionalPeer<typeof QRCodeModule>('qrcode');

/** A missing optional peer answers 501 with the install command (and says it once on stderr). */
let warned = false;
function needsPeers(handler: EmulatorHandler): EmulatorHandler {
  return async (req, emu) => {
    try {
      return await handler(req, emu);
    } catch (err) {
      if (!(err instanceof MissingPeerError)) throw err;
      if (!warned) process.emitWarning(err.message, { code: 'EZID_EMULATOR_PEER_MISSING' });
      warned = true;
      return { status: 501, body: apiError(501, 'emulator_dependency_missing', err.message) };
    }
  };
}

const sha256 = (v: string): string => createHash('sha256').update(v).digest('hex');

/** The user of an MFA token (from `mfa.token`) or of an emulator access token, in `Authorization: Bearer`. */
function mfaUser(emu: EzidEmulator, req: EmulatorRequest): StoredUser | undefined {
  const auth = req.headers.authorization;
  const m = typeof auth === 'string' ? /^Bearer\s+(\S+)$/i.exec(auth) : null;
  if (!m) return undefined;
  const entry = emu.store.mfaTokens.get(m[1]);
  if (entry) {
    if (entry.expiresAt <= Date.now()) {
      emu.store.mfaTokens.delete(m[1]);
      return undefined;
    }
    return emu.store.users.get(entry.userId);
  }
  return bearerUser(emu, req);
}

const mfaTokenRequired = () => bad('mfa_token_required', 'MFA Token Required', 401);
const notEnrolled = () => bad('mfa_not_enrolled', 'No TOTP authenticator enrolled', 404);

function otpauthUri(user: StoredUser, totp: StoredTotp): string {
  return otplib().generateURI({
    issuer: TOTP_ISSUER,
    label: user.email || user.phone || user.id,
    secret: totp.secret,
  });
}

function backupCode(): string {
  const bytes = randomBytes(8);
  const chars = [...bytes].map((b) => BACKUP_ALPHABET[b % BACKUP_ALPHABET.length]);
  return `${chars.slice(0, 4).join('')}-${chars.slice(4).join('')}`;
}

/**
 * Handlers of the MFA endpoints (ezid-api.md §2.7). Real TOTP (RFC 6238 via otplib: SHA-1, 6 digits,
 * 30 s, one step of clock drift either way, each time step accepted once), a real PNG QR code of the
 * otpauth URI, and single-use backup codes (stored hashed).
 */
const HANDLERS: Partial<Record<EzidEndpointName, EmulatorHandler>> = {
  // Server side (apiKey): an MFA token for the user, valid codeTtlSec.
  'mfa.token': management((req, emu) => {
    const identifier = str(req.body.identifier);
    const user = identifier ? emu.store.findUser(identifier) : undefined;
    if (!user) return bad('user_not_found', 'User Profile Not Found', 404);
    const token = `mfa_${randomBytes(32).toString('base64url')}`;
    const expiresAt = Date.now() + emu.codeTtlSec * 1000;
    emu.store.mfaTokens.set(token, { userId: user.id, expiresAt });
    return ok({ mfa_token: token, token_type: 'Bearer', expires_at: new Date(expiresAt).toISOString() });
  }),
  'mfa.authenticators': (req, emu) => {
    const user = mfaUser(emu, req);
    if (!user) return mfaTokenRequired();
    const totp = emu.store.totp.get(user.id);
    const list: Record<string, unknown>[] = [];
    if (totp) {
      list.push({
        id: totp.authenticatorId,
        authenticator_type: 'otp',
        active: totp.active,
        created_at: totp.createdAt.toISOString(),
      });
    }
    const codes = emu.store.backupCodes.get(user.id);
    if (codes?.size)
      list.push({ id: `recovery-code|${user.id}`, authenticator_type: 'recovery-code', active: true });
    return ok(list);
  },
  'mfa.enrollTotp': (req, emu) => {
    const user = mfaUser(emu, req);
    if (!user) return mfaTokenRequired();
    if ((req.body.authenticator_type ?? 'otp') !== 'otp')
      return bad('unsupported_authenticator', 'Only authenticator_type "otp" can be enrolled');
    if (emu.store.totp.get(user.id)?.active)
      return bad('mfa_already_enrolled', 'A TOTP authenticator is already active', 409);
    const totp: StoredTotp = {
      authenticatorId: `totp|${objectId()}`,
      secret: otplib().generateSecret(),
      active: false,
      createdAt: new Date(),
    };
    emu.store.totp.set(user.id, totp); // replaces a pending enrollment
    return ok({
      authenticator_type: 'otp',
      authenticator_id: totp.authenticatorId,
      secret: totp.secret,
      barcode_uri: otpauthUri(user, totp),
    });
  },
  'mfa.initiate': (req, emu) => {
    const user = mfaUser(emu, req);
    if (!user) return mfaTokenRequired();
    const type = req.body.authenticator_type ?? 'otp';
    if (type !== 'otp')
      return bad('unsupported_authenticator', 'The emulator supports authenticator_type "otp" only');
    if (!emu.store.totp.has(user.id)) return notEnrolled();
    const oobCode = randomBytes(32).toString('hex');
    emu.store.mfaChallenges.set(oobCode, {
      userId: user.id,
      expiresAt: Date.now() + emu.codeTtlSec * 1000,
      attempts: 0,
    });
    return ok({ challenge_type: 'otp', oob_code: oobCode });
  },
  'mfa.qrCode': async (req, emu) => {
    const user = mfaUser(emu, req);
    if (!user) return mfaTokenRequired();
    const totp = emu.store.totp.get(user.id);
    if (!totp) return notEnrolled();
    const dataUrl = await qrcode().toDataURL(otpauthUri(user, totp), { type: 'image/png', margin: 2 });
    return ok({ qr_code: dataUrl });
  },
  'mfa.validate': (req, emu) => {
    const oobCode = str(req.body.oob_code);
    const otp = req.body.otp === undefined ? undefined : String(req.body.otp);
    if (!oobCode || !otp) return bad('malformed_request', 'oob_code and otp are required');
    const challenge = emu.store.mfaChallenges.get(oobCode);
    if (!challenge || challenge.expiresAt <= Date.now()) {
      emu.store.mfaChallenges.delete(oobCode);
      return bad('invalid_oob_code', 'Invalid or expired oob_code');
    }
    const user = emu.store.users.get(challenge.userId);
    const totp = emu.store.totp.get(challenge.userId);
    if (!user || !totp) return bad('invalid_oob_code', 'Invalid or expired oob_code');
    let accepted = false;
    if (/^[0-9]{6}$/.test(otp)) {
      const result = otplib().verifySync({
        secret: totp.secret,
        token: otp,
        epochTolerance: 30,
        ...(totp.lastTimeStep !== undefined && { afterTimeStep: totp.lastTimeStep }),
      });
      if (result.valid) {
        totp.lastTimeStep = (result as { timeStep?: number }).timeStep;
        totp.active = true;
        accepted = true;
      }
    } else {
      const codes = emu.store.backupCodes.get(user.id);
      const hash = sha256(otp.toLowerCase());
      if (codes?.delete(hash)) accepted = true; // single use
    }
    if (!accepted) {
      challenge.attempts += 1;
      if (challenge.attempts >= MAX_CODE_ATTEMPTS) emu.store.mfaChallenges.delete(oobCode);
      return bad('invalid_otp', 'Invalid OTP');
    }
    emu.store.mfaChallenges.delete(oobCode);
    return tokenAndProfile(emu, user);
  },
  'mfa.backupCodes': (req, emu) => {
    const user = mfaUser(emu, req);
    if (!user) return mfaTokenRequired();
    const codes = Array.from({ length: BACKUP_CODE_COUNT }, backupCode);
    emu.store.backupCodes.set(user.id, new Set(codes.map(sha256))); // the previous set stops working
    return ok({ backup_codes: codes });
  },
};

export const MFA_HANDLERS: Partial<Record<EzidEndpointName, EmulatorHandler>> = Object.fromEntries(
  Object.entries(HANDLERS).map(([name, handler]) => [name, needsPeers(handler)]),
);
