import type { KeyObject } from 'node:crypto';
import type { EmulatorSigningAlgorithm } from './emulator-jwt';

/** Options of `EzidEmulator.start()`. */
export interface EzidEmulatorOptions {
  /** The client id the emulator accepts (`client_id` query/body, `x-client-id` header). */
  clientId: string;
  /** The client secret the legacy `email-link/*` and OTP endpoints require in the body. */
  clientSecret: string;
  /** `iss` of every token. Default `'https://ezid.emulator'`. */
  issuer?: string;
  /** `aud` of every token. Default: no `aud` claim. */
  audience?: string;
  /** Port on 127.0.0.1. Default `0` (a free port). */
  port?: number;
  /** Lifetime of access and id tokens. Default 600 s. */
  accessTokenTtlSec?: number;
  /** Lifetime of magic-link states, email/SMS codes and auth codes. Default 300 s. */
  codeTtlSec?: number;
  /** Shape of the magic-link status body: `'flat'` (Status API guides, default) or `'oauth'` (reference page). */
  statusShape?: 'flat' | 'oauth';
  /** HTTP status of legacy `{success:false, reason}` errors. Default 400 (EZiD does not document it). */
  legacyErrorStatus?: number;
  /**
   * When set, the management endpoints (users, organizations, roles, permissions, `mfa.token`) require
   * `Authorization: Bearer <apiKey>` (the module's `apiKey` option) and answer 401 otherwise.
   * Default: not checked.
   */
  apiKey?: string;
  /** The custom login domain `organizations.configByDomain()` knows. Default `'login.example.com'`. */
  customDomain?: string;
  /** Same overrides as the module's `endpoints` option, so the emulator follows a corrected table. */
  endpoints?: Readonly<Record<string, { method?: string; path?: string }>>;
  /** Initial data; default `DEFAULT_EMULATOR_SEED`. */
  seed?: EmulatorSeed;
}

/** A user of the emulator. `memberships` name tenants and roles by id or by name. */
export interface EmulatorUserSeed {
  id?: string;
  email: string;
  firstName?: string;
  lastName?: string;
  /** E.164 phone number for SMS codes. */
  phone?: string;
  memberships?: EmulatorMembershipSeed[];
}

/** A user's membership of one tenant. */
export interface EmulatorMembershipSeed {
  /** Tenant id or name. */
  tenant: string;
  /** Role ids or names. */
  roles: string[];
  /** Default `'Verified'`. */
  status?: string;
}

/** An organization (tenant). */
export interface EmulatorTenantSeed {
  id?: string;
  name: string;
}

/** A role; `permissions` are permission names or ids (`null` like EZiD's role without permissions). */
export interface EmulatorRoleSeed {
  id?: string;
  name: string;
  permissions: string[] | null;
}

/** A permission. */
export interface EmulatorPermissionSeed {
  id?: string;
  name: string;
}

/** Everything `emulator.seed()` replaces. */
export interface EmulatorSeed {
  users: EmulatorUserSeed[];
  tenants: EmulatorTenantSeed[];
  roles: EmulatorRoleSeed[];
  permissions: EmulatorPermissionSeed[];
}

/** Overrides for `mintAccessToken` / `mintIdToken`. */
export interface MintOverrides {
  /** Merged over the default claims; a key whose value is `undefined` removes that claim. */
  claims?: Record<string, unknown>;
  /** Merged over `{ alg, typ, kid }`; `undefined` removes a field. */
  header?: Record<string, unknown>;
  /** `exp = iat + expiresInSec` (negative: already expired). Default `accessTokenTtlSec`. */
  expiresInSec?: number;
  /** `iat` override, in seconds. */
  issuedAt?: number;
  /**
   * `'current'` (default): the current signing key. `'wrong-key'`: a fresh key that is not in the JWKS,
   * with the current `kid` in the header. Or an explicit private key (and `kid`).
   */
  signWith?: 'current' | 'wrong-key' | { kid?: string; privateKey: KeyObject };
  /** Signing algorithm; the header's `alg` follows unless `header.alg` is given. Default `'RS256'`. */
  algorithm?: EmulatorSigningAlgorithm;
  /** Secret for `algorithm: 'HS256'`. */
  hmacSecret?: string | Buffer;
}

/** A fault injected on one endpoint (by table name, or `'jwks'`). */
export interface EmulatorFault {
  /** Respond with this status (and raw `body`; default a JSON error body). */
  status?: number;
  body?: string;
  /** Delay before responding (normally, or with `status`). */
  latencyMs?: number;
  /** Never respond (until `stop()`). */
  hang?: boolean;
  /** Hold the request until this promise settles, then handle it (deterministic races in tests). */
  gate?: PromiseLike<unknown>;
  /** 200 with a body that is not valid JSON. */
  malformed?: boolean;
  /** 200 and the normal body, `bytes` (default 1) at a time every `intervalMs`. */
  dribble?: { intervalMs: number; bytes?: number };
  /** 302 with `Location: redirect`. */
  redirect?: string;
  /**
   * Hold the answer, computed when the request arrives, until this promise settles: a gate the test
   * opens (e.g. to act while a client's request is in flight, then deliver the earlier answer).
   */
  holdResponse?: PromiseLike<unknown>;
  /** Apply to the next N requests only. Default: until cleared. */
  times?: number;
}

/** A message the emulator "sent" (magic link, email code or SMS code). */
export interface OutboxMessage {
  /** Email address or phone number. */
  readonly to: string;
  readonly channel: 'email' | 'sms';
  readonly kind: 'magic-link' | 'email-code' | 'sms-code' | 'legacy-email-link';
  /** The link to open (magic links). */
  readonly link?: string;
  /** The code to type (email/SMS codes; the `code` parameter of legacy links). */
  readonly code?: string;
  /** The flow's state id. */
  readonly state?: string;
  readonly sentAt: Date;
}

/** The outbox: what the emulator would have emailed or texted. */
export interface EmulatorOutbox {
  /** The newest message to this address or phone number. */
  last(to: string): OutboxMessage | undefined;
  all(): OutboxMessage[];
  /**
   * Whether a message can no longer sign anyone in: its link or code was used (tokens handed out),
   * or it expired. A dev inbox hides these.
   */
  isUsed(message: OutboxMessage): boolean;
  clear(): void;
}
