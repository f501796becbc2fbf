import type { EzidAuditEvent } from './audit/ezid-audit.types';
import {
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Max,
  Min,
  ValidateBy,
  ValidationError,
  ValidationOptions,
  validateSync,
} from 'class-validator';
import {
  EZID_ROTATION_DEFAULT_MAX_ENTRIES,
  EZID_REUSE_GRACE_DEFAULT_SEC,
  EZID_ROTATION_DEFAULT_TTL_SEC,
  EZID_SESSION_RATE_LIMIT_DEFAULT,
} from './callback/callback.constants';
import { sanitizeRedirect } from './callback/redirect-sanitizer';
import { EzidConfigurationError, EzidConfigurationIssue } from './ezid.errors';
import type { EzidModuleOptions } from './ezid.options';
import type { EzidUser } from './interfaces/ezid-user.interface';

/** Fields whose values are never shown in an error message. */
const SECRET_FIELDS = new Set(['clientSecret', 'apiKey', 'token.publicKey', 'callback.flowSecret']);

/** Asymmetric JWS algorithms the verifier may be configured with. `none` and every `HS*` are refused. */
export const ALLOWED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/**
 * True for hosts that never leave the machine: exactly `localhost`, a literal 127.0.0.0/8 address or
 * `::1`. Not `*.localhost`: whether those resolve to loopback is up to a resolver.
 */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return LOOPBACK_HOSTS.has(h) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

function isSecureUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && isLoopbackHost(url.hostname);
}

function IsSecureUrl(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isSecureUrl',
      validator: {
        validate: isSecureUrl,
        defaultMessage: (a) =>
          `${a?.property} must be an absolute https URL without credentials (plain http is allowed only for localhost/127.0.0.1/::1)`,
      },
    },
    options,
  );
}

function IsFunction(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isFunction',
      validator: {
        validate: (v) => typeof v === 'function',
        defaultMessage: (a) => `${a?.property} must be a function`,
      },
    },
    options,
  );
}

function IsStringOrStringArray(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isStringOrStringArray',
      validator: {
        validate: (v) =>
          (typeof v === 'string' && v.length > 0) ||
          (Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string' && s.length > 0)),
        defaultMessage: (a) =>
          `${a?.property} must be a non-empty string or a non-empty array of non-empty strings`,
      },
    },
    options,
  );
}

function IsAllowedAlgorithms(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isAllowedAlgorithms',
      validator: {
        validate: (v) =>
          Array.isArray(v) &&
          v.length > 0 &&
          v.every((a) => typeof a === 'string' && (ALLOWED_ALGORITHMS as readonly string[]).includes(a)),
        defaultMessage: (a) =>
          `${a?.property} must be a non-empty list of asymmetric algorithms from ${ALLOWED_ALGORITHMS.join(', ')} ` +
          '("none" and HS* are never accepted: an HMAC "public key" is a forgery vector)',
      },
    },
    options,
  );
}

function IsPemPublicKey(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isPemPublicKey',
      validator: {
        validate: (v) => typeof v === 'string' && isPemPublicKey(v),
        defaultMessage: (a) =>
          `${a?.property} must be a PEM public key ("-----BEGIN PUBLIC KEY-----"), never a private key`,
      },
    },
    options,
  );
}

const PEM_BEGIN = /-----BEGIN (?:RSA )?PUBLIC KEY-----/;
const PEM_END = /-----END (?:RSA )?PUBLIC KEY-----/;

/** A BEGIN line, at least one character, an END line; no private key. Two linear searches, no backtracking. */
function isPemPublicKey(v: string): boolean {
  const begin = PEM_BEGIN.exec(v);
  return (
    begin !== null && PEM_END.test(v.slice(begin.index + begin[0].length + 1)) && !v.includes('PRIVATE KEY')
  );
}

function IsRoutePath(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isRoutePath',
      validator: {
        validate: (v) => typeof v === 'string' && /^\/[A-Za-z0-9\-._~/]*$/.test(v) && !v.startsWith('//'),
        defaultMessage: (a) => `${a?.property} must be an absolute path such as "/auth/ezid"`,
      },
    },
    options,
  );
}

/** An origin only: `scheme://host[:port]`, https (http for loopback), no path, query, credentials or wildcard. */
function isOrigin(value: unknown): boolean {
  if (typeof value !== 'string' || !/^https?:\/\/[^/?#*@\s]+\/?$/i.test(value)) return false;
  return isSecureUrl(value);
}

function IsOrigin(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isOrigin',
      validator: {
        validate: isOrigin,
        defaultMessage: (a) =>
          `${a?.property} must list origins only, such as "https://app.example.com" (scheme://host[:port], no path, no wildcard; plain http only for localhost/127.0.0.1/::1)`,
      },
    },
    options,
  );
}

const POSITIVE = { message: '$property must be a positive integer' };

class EzidHttpOptionsDto {
  @IsOptional() @IsInt(POSITIVE) @Min(1, POSITIVE) @Max(600_000) timeoutMs?: number;
  @IsOptional() @IsInt() @Min(0) @Max(10) retries?: number;
  @IsOptional() @IsInt(POSITIVE) @Min(1, POSITIVE) maxResponseBytes?: number;
}

class EzidJwksOptionsDto {
  @IsOptional() @IsInt(POSITIVE) @Min(1, POSITIVE) cacheMaxAgeSec?: number;
  @IsOptional() @IsInt() @Min(0) @Max(3600) cooldownSec?: number;
  @IsOptional() @IsInt(POSITIVE) @Min(1, POSITIVE) @Max(60_000) timeoutMs?: number;
  @IsOptional() @IsInt() @Min(0) staleIfErrorSec?: number;
  @IsOptional() @IsBoolean() prefetch?: boolean;
}

class EzidTokenOptionsDto {
  @IsOptional() @IsSecureUrl() jwksUri?: string;
  @IsOptional() @IsPemPublicKey() publicKey?: string;
  @IsStringOrStringArray() issuer!: string | string[];
  @IsOptional() @IsStringOrStringArray() audience?: string | string[];
  @IsOptional() @IsStringOrStringArray() authorizedParty?: string | string[];
  @IsOptional() @IsBoolean() requireAuthorizedParty?: boolean;
  @IsOptional() @IsAllowedAlgorithms() algorithms?: string[];
  @IsOptional() @IsInt() @Min(0) @Max(300) clockToleranceSec?: number;
  @IsOptional() @IsInt(POSITIVE) @Min(1, POSITIVE) maxLifetimeSec?: number;
  @IsOptional() @IsInt() @Min(256) @Max(65_536) maxTokenBytes?: number;
  @IsOptional() @IsInt() @Min(65_536) verifiedCacheMaxBytes?: number;
  @IsOptional() @IsString() @IsNotEmpty() typ?: string;
  @IsOptional() @IsString() @IsNotEmpty() cookieName?: string;
  @IsOptional() @IsObject() jwks?: EzidJwksOptionsDto;
}

class EzidTenantOptionsDto {
  @IsOptional() @IsString() @IsNotEmpty() param?: string;
  @IsOptional() @IsString() @IsNotEmpty() header?: string;
  @IsOptional() @IsFunction() resolve?: (request: unknown, user: EzidUser) => unknown;
  @IsOptional() @IsBoolean() singleTenantFallback?: boolean;
  @IsOptional() @IsInt(POSITIVE) @Min(1, POSITIVE) @Max(60_000) resolveTimeoutMs?: number;
}

class EzidProfileOptionsDto {
  @IsOptional() @IsIn(['token', 'api']) source?: 'token' | 'api';
  @IsOptional() @IsInt() @Min(0) cacheTtlSec?: number;
  @IsOptional() @IsInt(POSITIVE) @Min(1, POSITIVE) cacheMaxEntries?: number;
}

class EzidCallbackRateLimitOptionsDto {
  @IsOptional() @IsInt(POSITIVE) @Min(1, POSITIVE) limit?: number;
  @IsOptional() @IsInt(POSITIVE) @Min(1, POSITIVE) ttlSec?: number;
}

class EzidCallbackRefreshOptionsDto {
  @IsOptional() @IsInt(POSITIVE) @Min(1, POSITIVE) rotationTtlSec?: number;
  @IsOptional() @IsInt(POSITIVE) @Min(1, POSITIVE) rotationMaxEntries?: number;
  @IsOptional() @IsInt() @Min(0) @Max(60) reuseGraceSec?: number;
}

class EzidCallbackOptionsDto {
  @IsOptional() @IsRoutePath() path?: string;
  @IsOptional() @IsIn(['json', 'cookie']) mode?: 'json' | 'cookie';
  @IsOptional() @IsArray() @IsRoutePath({ each: true }) redirectAllowList?: string[];
  /** Checked in `resolveEzidOptions` against the allow-list (see `errorRedirectProblem`). */
  @IsOptional() errorRedirect?: string | false;
  @IsOptional() @IsSecureUrl() publicUrl?: string;
  @IsOptional() @IsString() @IsNotEmpty() flowSecret?: string;
  @IsOptional() @IsBoolean() requireFlowCookie?: boolean;
  @IsOptional() @IsObject() rateLimit?: EzidCallbackRateLimitOptionsDto;
  @IsOptional() @IsObject() sessionRateLimit?: EzidCallbackRateLimitOptionsDto;
  @IsOptional() @IsObject() refresh?: EzidCallbackRefreshOptionsDto;
}

class EzidCsrfOptionsDto {
  @IsOptional() @IsArray() @IsOrigin({ each: true }) allowedOrigins?: string[];
  @IsOptional() @IsBoolean() allowMissingOrigin?: boolean;
}

class EzidStoreOptionsDto {
  /** Checked in `resolveEzidOptions` (a URL, or an object with ioredis's `call` and `duplicate`). */
  @IsDefined() redis!: string | object;
  @IsOptional() @IsString() @IsNotEmpty() keyPrefix?: string;
  @IsOptional() @IsInt(POSITIVE) @Min(10, POSITIVE) @Max(60_000) commandTimeoutMs?: number;
  @IsOptional() @IsInt(POSITIVE) @Min(1, POSITIVE) @Max(60_000) connectTimeoutMs?: number;
}

class EzidHealthOptionsDto {
  @IsOptional() @IsBoolean() api?: boolean;
  @IsOptional() @IsInt(POSITIVE) @Min(1, POSITIVE) @Max(3600) apiIntervalSec?: number;
  @IsOptional() @IsInt() @Min(100) @Max(10_000) apiTimeoutMs?: number;
}

class EzidAuditOptionsDto {
  @IsOptional() @IsFunction() onEvent?: (event: unknown) => unknown;
  @IsOptional() @IsBoolean() includeEmail?: boolean;
  @IsOptional() @IsBoolean() eventEmitter?: boolean;
}

class EzidModuleOptionsDto {
  @IsString() @IsNotEmpty() clientId!: string;
  @IsOptional() @IsString() @IsNotEmpty() clientSecret?: string;
  @IsOptional() @IsString() @IsNotEmpty() apiKey?: string;
  @IsOptional() @IsSecureUrl() apiBaseUrl?: string;
  @IsOptional() @IsSecureUrl() legacyApiBaseUrl?: string;
  @IsOptional() @IsObject() http?: EzidHttpOptionsDto;
  @IsObject() token!: EzidTokenOptionsDto;
  @IsOptional() @IsBoolean() globalGuard?: boolean;
  @IsOptional() @IsObject() tenant?: EzidTenantOptionsDto;
  @IsOptional() @IsObject() profile?: EzidProfileOptionsDto;
  @IsOptional() callback?: false | EzidCallbackOptionsDto;
  @IsOptional() @IsObject() csrf?: EzidCsrfOptionsDto;
  @IsOptional() @IsObject() store?: EzidStoreOptionsDto;
  @IsOptional() @IsObject() endpoints?: Record<string, unknown>;
  @IsOptional() @IsBoolean() context?: boolean;
  @IsOptional() @IsObject() health?: EzidHealthOptionsDto;
  @IsOptional() @IsBoolean() telemetry?: boolean;
  @IsOptional() @IsObject() audit?: EzidAuditOptionsDto;
}

type Ctor<T> = new () => T;

/** Fully-defaulted options, as every provider of the module sees them. */
export interface ResolvedEzidOptions {
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly apiKey?: string;
  readonly apiBaseUrl: string;
  readonly legacyApiBaseUrl: string;
  readonly http: { readonly timeoutMs: number; readonly retries: number; readonly maxResponseBytes: number };
  readonly token: {
    readonly jwksUri?: string;
    readonly publicKey?: string;
    readonly issuer: readonly string[];
    readonly audience?: readonly string[];
    readonly authorizedParty: readonly string[];
    readonly requireAuthorizedParty: boolean;
    readonly algorithms: readonly string[];
    readonly clockToleranceSec: number;
    readonly maxLifetimeSec: number;
    readonly maxTokenBytes: number;
    readonly verifiedCacheMaxBytes: number;
    readonly typ?: string;
    readonly cookieName?: string;
    readonly jwks: {
      readonly cacheMaxAgeSec: number;
      readonly cooldownSec: number;
      readonly timeoutMs: number;
      readonly staleIfErrorSec: number;
      readonly prefetch: boolean;
    };
  };
  readonly globalGuard: boolean;
  readonly tenant: {
    readonly param: string;
    readonly header: string;
    readonly resolve?: (request: unknown, user: EzidUser) => unknown;
    readonly singleTenantFallback: boolean;
    readonly resolveTimeoutMs: number;
  };
  readonly profile: {
    readonly source: 'token' | 'api';
    readonly cacheTtlSec: number;
    readonly cacheMaxEntries: number;
  };
  readonly callback:
    | false
    | {
        readonly path: string;
        readonly mode: 'json' | 'cookie';
        readonly redirectAllowList: readonly string[];
        /** Path a failed GET callback redirects to in cookie mode (`?ezid_error=<code>` appended), or `false`. */
        readonly errorRedirect: string | false;
        readonly publicUrl?: string;
        readonly flowSecret?: string;
        readonly requireFlowCookie: boolean;
        readonly rateLimit: { readonly limit: number; readonly ttlSec: number };
        readonly sessionRateLimit: { readonly limit: number; readonly ttlSec: number };
        readonly refresh: {
          readonly rotationTtlSec: number;
          readonly rotationMaxEntries: number;
          readonly reuseGraceSec: number;
        };
      };
  readonly csrf: { readonly allowedOrigins: readonly string[]; readonly allowMissingOrigin: boolean };
  /** `undefined`: the in-memory store (this process only). */
  readonly store?: {
    readonly redis: string | object;
    readonly keyPrefix: string;
    readonly commandTimeoutMs: number;
    readonly connectTimeoutMs: number;
  };
  readonly endpoints: Readonly<Record<string, { readonly method?: string; readonly path?: string }>>;
  /** The request context (`EzidContext`) is on. */
  readonly context: boolean;
  readonly health: { readonly api: boolean; readonly apiIntervalSec: number; readonly apiTimeoutMs: number };
  /** `undefined`: on when `@opentelemetry/api` resolves. */
  readonly telemetry?: boolean;
  readonly audit: {
    readonly onEvent?: (event: EzidAuditEvent) => unknown;
    readonly includeEmail: boolean;
    readonly eventEmitter?: boolean;
  };
}

const ENDPOINT_OVERRIDE_KEYS = new Set(['method', 'path']);
const HTTP_METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Copies own enumerable keys onto a DTO instance (functions preserved, no prototype keys). */
function toDto<T extends object>(ctor: Ctor<T>, raw: Record<string, unknown>): T {
  const dto = new ctor() as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    Object.defineProperty(dto, key, {
      value: raw[key],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return dto as T;
}

function collect(errors: ValidationError[], prefix: string, out: EzidConfigurationIssue[]): void {
  for (const e of errors) {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    if (e.constraints) {
      const messages = Object.entries(e.constraints).map(([name, msg]) =>
        name === 'whitelistValidation'
          ? 'unknown option (check the spelling; unknown keys are rejected so a typo cannot silently disable a setting)'
          : // class-validator says "<prop> must be …" or "<prop> should not be …": the path already
            // names the property, so the problem reads "must be …" / "must not be …".
            msg.replace(new RegExp(`^${e.property}\\s+`), '').replace(/^should\b/, 'must'),
      );
      const unique = [...new Set(messages)];
      out.push({ path, problem: unique.join('; ') });
    }
    if (e.children?.length) collect(e.children, path, out);
  }
}

function validateGroup<T extends object>(
  ctor: Ctor<T>,
  raw: unknown,
  path: string,
  issues: EzidConfigurationIssue[],
): T | undefined {
  if (raw === undefined) return undefined;
  if (!isPlainObject(raw)) {
    issues.push({ path, problem: 'must be an object' });
    return undefined;
  }
  for (const key of Object.keys(raw)) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') {
      issues.push({
        path: path ? `${path}.${key}` : key,
        problem: 'unknown option (prototype keys are never configuration)',
      });
    }
  }
  const dto = toDto(ctor, raw);
  collect(
    validateSync(dto, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true }),
    path,
    issues,
  );
  return dto;
}

/**
 * A string as it may be shown in an error: URL userinfo (`user:password@`) becomes `***@`, every query
 * value `***` and a fragment `#***`. Applied to every string, so no URL-shaped option echoes a credential.
 */
function redactUrlParts(s: string): string {
  const start = /^[A-Za-z][A-Za-z0-9+.-]*:[/\\]*/.exec(s)?.[0].length ?? 0;
  let end = s.length;
  for (const c of ['/', '\\', '?', '#']) {
    const i = s.indexOf(c, start);
    if (i >= 0 && i < end) end = i;
  }
  const at = s.lastIndexOf('@', end - 1);
  let out = at >= start ? `${s.slice(0, start)}***@${s.slice(at + 1)}` : s;
  const hash = out.indexOf('#');
  if (hash >= 0) out = `${out.slice(0, hash)}#***`;
  const q = out.indexOf('?');
  if (q >= 0) {
    const tail = out.endsWith('#***') ? '#***' : '';
    const query = out.slice(q + 1, out.length - tail.length);
    const masked = query
      .split('&')
      .map((part) => (part.includes('=') ? `${part.slice(0, part.indexOf('='))}=***` : '***'))
      .join('&');
    out = `${out.slice(0, q)}?${masked}${tail}`;
  }
  return out;
}

function describeValue(path: string, value: unknown): string {
  if (SECRET_FIELDS.has(path)) return '[redacted]';
  if (typeof value === 'string') {
    const shown = redactUrlParts(value);
    return JSON.stringify(shown.length > 80 ? `${shown.slice(0, 77)}...` : shown);
  }
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return 'a function';
  try {
    const s = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'string' ? redactUrlParts(v) : v));
    return s && s.length > 80 ? `${s.slice(0, 77)}...` : String(s);
  } catch {
    return typeof value;
  }
}

function readPath(root: unknown, path: string): unknown {
  let cur: unknown = root;
  for (const part of path.split('.')) {
    if (!isPlainObject(cur) || !Object.hasOwn(cur, part)) return undefined;
    cur = cur[part];
  }
  return cur;
}

const toList = (v: string | string[] | undefined): string[] | undefined =>
  v === undefined ? undefined : Array.isArray(v) ? [...v] : [v];

const stripSlash = (url: string): string => {
  let end = url.length;
  while (end > 0 && url.charCodeAt(end - 1) === 0x2f) end -= 1;
  return url.slice(0, end);
};

/**
 * Validates raw module options and applies the defaults. Throws one `EzidConfigurationError`
 * listing every invalid field (secret values redacted).
 */
export function resolveEzidOptions(raw: EzidModuleOptions | undefined): ResolvedEzidOptions {
  const issues: EzidConfigurationIssue[] = [];
  if (!isPlainObject(raw)) {
    throw EzidConfigurationError.create([{ path: '(options)', problem: 'must be an object' }]);
  }
  const root = validateGroup(EzidModuleOptionsDto, raw, '', issues)!;

  const token = validateGroup(EzidTokenOptionsDto, raw.token, 'token', issues);
  const jwks = validateGroup(EzidJwksOptionsDto, raw.token?.jwks, 'token.jwks', issues);
  const http = validateGroup(EzidHttpOptionsDto, raw.http, 'http', issues);
  const tenant = validateGroup(EzidTenantOptionsDto, raw.tenant, 'tenant', issues);
  const profile = validateGroup(EzidProfileOptionsDto, raw.profile, 'profile', issues);
  const csrf = validateGroup(EzidCsrfOptionsDto, raw.csrf, 'csrf', issues);
  const store = validateGroup(EzidStoreOptionsDto, raw.store, 'store', issues);
  const health = validateGroup(EzidHealthOptionsDto, raw.health, 'health', issues);
  const audit = validateGroup(EzidAuditOptionsDto, raw.audit, 'audit', issues);
  const redisProblem = store ? storeRedisProblem(store.redis) : undefined;
  if (redisProblem) issues.push({ path: 'store.redis', problem: redisProblem });
  let callback: EzidCallbackOptionsDto | false | undefined;
  let rateLimit: EzidCallbackRateLimitOptionsDto | undefined;
  let refresh: EzidCallbackRefreshOptionsDto | undefined;
  let sessionRateLimit: EzidCallbackRateLimitOptionsDto | undefined;
  if (raw.callback === false) callback = false;
  else if (raw.callback !== undefined) {
    callback = validateGroup(EzidCallbackOptionsDto, raw.callback, 'callback', issues);
    rateLimit = validateGroup(
      EzidCallbackRateLimitOptionsDto,
      isPlainObject(raw.callback) ? raw.callback.rateLimit : undefined,
      'callback.rateLimit',
      issues,
    );
    sessionRateLimit = validateGroup(
      EzidCallbackRateLimitOptionsDto,
      isPlainObject(raw.callback) ? raw.callback.sessionRateLimit : undefined,
      'callback.sessionRateLimit',
      issues,
    );
    refresh = validateGroup(
      EzidCallbackRefreshOptionsDto,
      isPlainObject(raw.callback) ? raw.callback.refresh : undefined,
      'callback.refresh',
      issues,
    );
  }

  if (callback && callback.errorRedirect !== undefined) {
    const problem = errorRedirectProblem(callback.errorRedirect, callback);
    if (problem) issues.push({ path: 'callback.errorRedirect', problem });
  }
  if (token && token.jwksUri === undefined && token.publicKey === undefined) {
    issues.push({
      path: 'token',
      problem: 'one of token.jwksUri or token.publicKey is required, or no token could ever be verified',
    });
  }
  if (token && token.jwksUri !== undefined && token.publicKey !== undefined) {
    issues.push({ path: 'token', problem: 'set token.jwksUri or token.publicKey, not both' });
  }
  if (raw.endpoints !== undefined && isPlainObject(raw.endpoints)) {
    for (const [name, override] of Object.entries(raw.endpoints)) {
      const p = `endpoints.${name}`;
      if (!isPlainObject(override) || Object.keys(override).some((k) => !ENDPOINT_OVERRIDE_KEYS.has(k))) {
        issues.push({ path: p, problem: 'must be an object with only "method" and/or "path"' });
        continue;
      }
      if (override.method !== undefined && !HTTP_METHODS.has(String(override.method))) {
        issues.push({ path: `${p}.method`, problem: `must be one of ${[...HTTP_METHODS].join(', ')}` });
      }
      if (
        override.path !== undefined &&
        (typeof override.path !== 'string' || !override.path.startsWith('/'))
      ) {
        issues.push({ path: `${p}.path`, problem: 'must be a path starting with "/"' });
      }
    }
  }

  if (issues.length) {
    for (const issue of issues) {
      if (issue.path === 'token' || issue.path.startsWith('endpoints.')) continue;
      const value = readPath(raw, issue.path);
      if (!issue.problem.startsWith('unknown option'))
        issue.problem += ` (got ${describeValue(issue.path, value)})`;
    }
    throw EzidConfigurationError.create(issues);
  }

  const apiBaseUrl = stripSlash(root.apiBaseUrl ?? 'https://api.ezid.io');
  const cb = callback as EzidCallbackOptionsDto | false | undefined;
  return deepFreeze({
    clientId: root.clientId,
    clientSecret: root.clientSecret,
    apiKey: root.apiKey,
    apiBaseUrl,
    legacyApiBaseUrl: stripSlash(root.legacyApiBaseUrl ?? apiBaseUrl),
    http: {
      timeoutMs: http?.timeoutMs ?? 10_000,
      retries: http?.retries ?? 2,
      maxResponseBytes: http?.maxResponseBytes ?? 1024 * 1024,
    },
    token: {
      jwksUri: token!.jwksUri,
      publicKey: token!.publicKey,
      issuer: toList(token!.issuer)!,
      audience: toList(token!.audience),
      authorizedParty: toList(token!.authorizedParty) ?? [root.clientId],
      requireAuthorizedParty: token!.requireAuthorizedParty ?? true,
      algorithms: token!.algorithms ? [...token!.algorithms] : ['RS256'],
      clockToleranceSec: token!.clockToleranceSec ?? 30,
      maxLifetimeSec: token!.maxLifetimeSec ?? 86_400,
      maxTokenBytes: token!.maxTokenBytes ?? 8192,
      verifiedCacheMaxBytes: token!.verifiedCacheMaxBytes ?? 64 * 1024 * 1024,
      typ: token!.typ,
      cookieName: token!.cookieName,
      jwks: {
        cacheMaxAgeSec: jwks?.cacheMaxAgeSec ?? 600,
        cooldownSec: jwks?.cooldownSec ?? 30,
        timeoutMs: jwks?.timeoutMs ?? 5000,
        staleIfErrorSec: jwks?.staleIfErrorSec ?? 3000,
        prefetch: jwks?.prefetch ?? true,
      },
    },
    globalGuard: root.globalGuard ?? true,
    tenant: {
      param: tenant?.param ?? 'tenantId',
      header: (tenant?.header ?? 'x-tenant-id').toLowerCase(),
      resolve: tenant?.resolve,
      singleTenantFallback: tenant?.singleTenantFallback === true,
      resolveTimeoutMs: tenant?.resolveTimeoutMs ?? 5000,
    },
    profile: {
      source: profile?.source ?? 'token',
      cacheTtlSec: profile?.cacheTtlSec ?? 60,
      cacheMaxEntries: profile?.cacheMaxEntries ?? 10_000,
    },
    callback:
      cb === false
        ? false
        : {
            path: stripSlash(cb?.path ?? '/auth/ezid') || '/',
            mode: cb?.mode ?? 'json',
            redirectAllowList: cb?.redirectAllowList ? [...cb.redirectAllowList] : ['/'],
            errorRedirect:
              cb?.errorRedirect === false ? false : (cb?.errorRedirect ?? cb?.redirectAllowList?.[0] ?? '/'),
            publicUrl: cb?.publicUrl ? stripSlash(cb.publicUrl) : undefined,
            flowSecret: cb?.flowSecret,
            requireFlowCookie: cb?.requireFlowCookie ?? true,
            rateLimit: { limit: rateLimit?.limit ?? 10, ttlSec: rateLimit?.ttlSec ?? 60 },
            sessionRateLimit: {
              limit: sessionRateLimit?.limit ?? EZID_SESSION_RATE_LIMIT_DEFAULT.limit,
              ttlSec: sessionRateLimit?.ttlSec ?? EZID_SESSION_RATE_LIMIT_DEFAULT.ttlSec,
            },
            refresh: {
              rotationTtlSec: refresh?.rotationTtlSec ?? EZID_ROTATION_DEFAULT_TTL_SEC,
              rotationMaxEntries: refresh?.rotationMaxEntries ?? EZID_ROTATION_DEFAULT_MAX_ENTRIES,
              reuseGraceSec: refresh?.reuseGraceSec ?? EZID_REUSE_GRACE_DEFAULT_SEC,
            },
          },
    csrf: {
      allowedOrigins: (csrf?.allowedOrigins ?? []).map((o) => new URL(o).origin),
      allowMissingOrigin: csrf?.allowMissingOrigin ?? false,
    },
    store: store
      ? {
          redis: store.redis,
          keyPrefix: store.keyPrefix ?? 'ezid:',
          commandTimeoutMs: store.commandTimeoutMs ?? 500,
          connectTimeoutMs: store.connectTimeoutMs ?? 2000,
        }
      : undefined,
    endpoints: raw.endpoints ? { ...raw.endpoints } : {},
    context: root.context === true,
    health: {
      api: health?.api === true,
      apiIntervalSec: health?.apiIntervalSec ?? 30,
      apiTimeoutMs: health?.apiTimeoutMs ?? 2000,
    },
    telemetry: root.telemetry,
    audit: audit
      ? {
          onEvent: audit.onEvent,
          includeEmail: audit.includeEmail ?? false,
          eventEmitter: audit.eventEmitter,
        }
      : { includeEmail: false },
  });
}

/** Why `store.redis` is refused: a `redis://`/`rediss://` URL or an ioredis client (`call`, `duplicate`). */
function storeRedisProblem(value: unknown): string | undefined {
  if (typeof value === 'string') {
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    return url && (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname
      ? undefined
      : 'must be a redis:// or rediss:// URL, or an ioredis client';
  }
  const client = value as { call?: unknown; duplicate?: unknown } | null;
  return typeof client === 'object' &&
    client !== null &&
    typeof client.call === 'function' &&
    typeof client.duplicate === 'function'
    ? undefined
    : 'must be a redis:// or rediss:// URL, or an ioredis client';
}

/**
 * Why `callback.errorRedirect` is refused, or `undefined`: it must be `false` or a plain path that
 * `sanitizeRedirect()` keeps unchanged against the configured allow-list (so no other origin, no
 * `//host`, no query or fragment, no percent-encoding, nothing off the list).
 */
function errorRedirectProblem(value: unknown, cb: EzidCallbackOptionsDto): string | undefined {
  if (value === false) return undefined;
  const allowList = Array.isArray(cb.redirectAllowList) ? cb.redirectAllowList : ['/'];
  const ok =
    typeof value === 'string' &&
    value.startsWith('/') &&
    !value.includes('?') &&
    !value.includes('#') &&
    sanitizeRedirect(value, { origin: cb.publicUrl, allowList, fallback: '' }) === value;
  return ok
    ? undefined
    : 'must be false or a same-origin path on callback.redirectAllowList, such as "/" (no query, fragment, percent-encoding or other origin)';
}

/** Freezes plain objects and arrays, recursively; class instances (an ioredis client) are left alone. */
function deepFreeze<T>(value: T): T {
  const proto = value && typeof value === 'object' ? Object.getPrototypeOf(value) : undefined;
  const plain = proto === Object.prototype || proto === Array.prototype || proto === null;
  if (value && typeof value === 'object' && plain && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
