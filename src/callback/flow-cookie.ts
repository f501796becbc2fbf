import * as crypto from 'node:crypto';
import { EZID_FLOW_COOKIE_TTL_SEC } from './callback.constants';

/** The kinds of login a flow cookie can be started for. */
export type EzidFlowKind = 'magic-link' | 'email-code' | 'sms';

/** What the signed login-flow cookie carries. Never a code, a state or a token: only their hashes. */
export interface EzidLoginFlow {
  /** The login this cookie was started for. */
  readonly kind: EzidFlowKind;
  /** base64url SHA-256 of the value the callback must present (the link's code, or the flow's state). */
  readonly binding?: string;
  /** Sanitised, allow-listed path to go to after the GET callback. */
  readonly redirectPath?: string;
  /** Expiry, epoch seconds. */
  readonly exp: number;
}

const VERSION = 'v1';

/** base64url SHA-256 of a code or state: what a flow cookie binds to. */
export function flowBinding(value: string): string {
  return crypto.createHash('sha256').update(value, 'utf8').digest('base64url');
}

/** Constant-time string comparison; unequal lengths are `false`, never a `RangeError`. */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  if (x.length !== y.length) return false;
  return crypto.timingSafeEqual(x, y);
}

/**
 * Derives the HMAC key of the flow cookie: HKDF-SHA256 of `flowSecret`, else of the client
 * secret (so every instance of the app derives the same key), else a random per-process key.
 */
export function deriveFlowKey(flowSecret: string | undefined, clientSecret: string | undefined): Buffer {
  const ikm = flowSecret ?? clientSecret;
  if (!ikm) return crypto.randomBytes(32);
  return Buffer.from(crypto.hkdfSync('sha256', ikm, 'nestjs-ezid', `flow-cookie-${VERSION}`, 32));
}

/**
 * Signs and verifies the login-flow cookie: `v1.<base64url JSON>.<base64url HMAC-SHA256>`.
 * Short-lived (at most 10 minutes), bound to the login it started (hash of the link's code or of
 * the flow's state) and to its kind.
 */
export class EzidFlowCookieSigner {
  constructor(
    private readonly key: Buffer,
    private readonly ttlSec: number = EZID_FLOW_COOKIE_TTL_SEC,
  ) {}

  /** Lifetime of new flow cookies, seconds. */
  get maxAgeSec(): number {
    return this.ttlSec;
  }

  /** A signed cookie value for a new login. */
  sign(flow: Omit<EzidLoginFlow, 'exp'>, nowMs = Date.now()): string {
    const payload: EzidLoginFlow = { ...flow, exp: Math.floor(nowMs / 1000) + this.ttlSec };
    const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
    return `${VERSION}.${body}.${this.mac(body)}`;
  }

  /** The flow of a cookie value, or `undefined` when it is malformed, forged or expired. */
  verify(value: string | undefined, nowMs = Date.now()): EzidLoginFlow | undefined {
    if (typeof value !== 'string' || value.length > 2048) return undefined;
    const parts = value.split('.');
    if (parts.length !== 3 || parts[0] !== VERSION) return undefined;
    if (!safeEqual(parts[2], this.mac(parts[1]))) return undefined;
    let flow: unknown;
    try {
      flow = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    if (!flow || typeof flow !== 'object') return undefined;
    const f = flow as Record<string, unknown>;
    if (f.kind !== 'magic-link' && f.kind !== 'email-code' && f.kind !== 'sms') return undefined;
    if (typeof f.exp !== 'number' || !Number.isFinite(f.exp) || f.exp * 1000 <= nowMs) return undefined;
    if (f.binding !== undefined && typeof f.binding !== 'string') return undefined;
    if (f.redirectPath !== undefined && typeof f.redirectPath !== 'string') return undefined;
    return Object.freeze({
      kind: f.kind,
      binding: f.binding as string | undefined,
      redirectPath: f.redirectPath as string | undefined,
      exp: f.exp,
    });
  }

  /**
   * Whether `flow` authorises completing a login of `kind` with `value` (the code or the state):
   * same kind, and the value's hash equals the bound hash (constant time).
   */
  static matches(flow: EzidLoginFlow | undefined, kind: EzidFlowKind, value: string | undefined): boolean {
    if (!flow || flow.kind !== kind) return false;
    if (flow.binding === undefined) return true;
    return typeof value === 'string' && safeEqual(flowBinding(value), flow.binding);
  }

  private mac(body: string): string {
    return crypto.createHmac('sha256', this.key).update(`${VERSION}.${body}`).digest('base64url');
  }
}
