import { randomBytes, randomUUID, verify } from 'node:crypto';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  EzidEndpointDefinition,
  EzidEndpointName,
  compileEndpointPath,
  resolveEndpointTable,
} from '../client/ezid-endpoints';
import { isLoopbackHost } from '../ezid-options.validation';
import type { EzidModuleOptions } from '../ezid.options';
import { DEFAULT_EMULATOR_SEED } from './default-seed';
import { EmulatorRequest, EmulatorResponse, apiError, legacyError } from './emulator-handlers';
import { EMULATOR_HANDLERS } from './emulator-handler-table';
import {
  EmulatorKeyPair,
  generateEmulatorKey,
  objectId,
  publicJwk,
  signJws,
  verifyHs256,
} from './emulator-jwt';
import { EmulatorStore, StoredUser } from './emulator-store';
import {
  EzidEmulatorModuleOverrides,
  EzidTestTokenOptions,
  buildTenantsClaim,
  mergeModuleOptions,
} from './emulator-kit';
import type {
  EmulatorFault,
  EmulatorOutbox,
  EmulatorSeed,
  EzidEmulatorOptions,
  MintOverrides,
  OutboxMessage,
} from './emulator.types';

/** Default client id of `EzidEmulator.start()` when none is given. */
export const EZID_EMULATOR_DEFAULT_CLIENT_ID = 'ezid-test-client';

/** Default `iss` of emulator tokens. */
export const EZID_EMULATOR_DEFAULT_ISSUER = 'https://ezid.emulator';

/** JWKS paths the emulator serves (SSOJet style, ezid-api.md §6). */
const JWKS_PATHS = new Set(['/api/.well-known/jwks.json', '/api/v1/.well-known/jwks.json']);
const MAX_REQUEST_BYTES = 1024 * 1024;

interface Route {
  name: EzidEndpointName;
  def: EzidEndpointDefinition;
  match: (pathname: string) => Record<string, string> | undefined;
}

/**
 * A local EZiD server for e2e tests and offline development: a real HTTP server on 127.0.0.1 that
 * implements every endpoint of the endpoint table in memory (authentication, users, organizations,
 * roles, permissions, real TOTP MFA, passkeys), signs RS256 tokens whose `tenants` follow the stored
 * memberships, serves a JWKS, delivers links and codes to an `outbox`, and injects faults on demand.
 * It answers only requests addressed to a loopback `Host` (and, from browsers, a loopback `Origin`):
 * anything else is 403 `host_not_allowed` (DNS-rebinding defence).
 *
 * @example
 * const emu = await EzidEmulator.start(); // client 'ezid-test-client', a random secret
 * Test.createTestingModule({ imports: [EzidModule.forRoot(emu.moduleOptions())], controllers: [...] });
 * const token = emu.tokenFor('bob@example.com'); // Admin in org2 (id: emu.tenantId('org2'))
 * await emu.stop();
 */
export class EzidEmulator {
  /** `http://127.0.0.1:<port>`: use as `apiBaseUrl` (and `legacyApiBaseUrl`). */
  readonly url: string;
  /** `${url}/api/.well-known/jwks.json`. */
  readonly jwksUri: string;
  /** `iss` of every token. */
  readonly issuer: string;
  /** `aud` of every token, when configured. */
  readonly audience?: string;
  /** The client id the emulator accepts. */
  readonly clientId: string;
  /** The custom login domain of `organizations.configByDomain` (option `customDomain`). */
  readonly customDomain: string;
  /** Lifetime of access and id tokens, seconds. */
  readonly accessTokenTtlSec: number;
  /** Lifetime of states, codes and auth codes, seconds. */
  readonly codeTtlSec: number;
  /** What the emulator would have emailed or texted. */
  readonly outbox: EmulatorOutbox;

  /** @internal */ readonly store = new EmulatorStore();
  /** @internal */ readonly options: Readonly<EzidEmulatorOptions>;

  /** Kept out of `options`, `JSON.stringify` and `util.inspect` (an ES private field). */
  readonly #clientSecret: string;
  private readonly routes: Route[];
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly keys = new Map<string, EmulatorKeyPair>();
  private readonly published = new Set<string>();
  private currentKey: EmulatorKeyPair;
  private jwksOverride: unknown | null = null;
  private readonly faults = new Map<string, EmulatorFault>();
  private readonly counters = new Map<string, number>();
  private readonly messages: OutboxMessage[] = [];
  private stopped = false;

  private constructor(
    private readonly server: Server,
    options: EzidEmulatorOptions,
    url: string,
  ) {
    const { clientSecret, ...rest } = options;
    this.options = Object.freeze(rest) as Readonly<EzidEmulatorOptions>;
    this.url = url;
    this.jwksUri = `${url}/api/.well-known/jwks.json`;
    this.issuer = options.issuer ?? EZID_EMULATOR_DEFAULT_ISSUER;
    this.audience = options.audience;
    this.clientId = options.clientId;
    this.customDomain = options.customDomain ?? 'login.example.com';
    this.#clientSecret = clientSecret;
    this.accessTokenTtlSec = options.accessTokenTtlSec ?? 600;
    this.codeTtlSec = options.codeTtlSec ?? 300;
    const table = resolveEndpointTable(options.endpoints ?? {});
    this.routes = (Object.entries(table) as [EzidEndpointName, EzidEndpointDefinition][]).map(
      ([name, def]) => ({
        name,
        def,
        match: compileEndpointPath(def.path),
      }),
    );
    this.currentKey = generateEmulatorKey(2048);
    this.keys.set(this.currentKey.kid, this.currentKey);
    this.published.add(this.currentKey.kid);
    this.store.load(options.seed ?? DEFAULT_EMULATOR_SEED);
    const messages = this.messages;
    this.outbox = {
      last: (to) => {
        const key = to.toLowerCase();
        for (let i = messages.length - 1; i >= 0; i--)
          if (messages[i].to.toLowerCase() === key) return messages[i];
        return undefined;
      },
      all: () => [...messages],
      isUsed: (m) => this.isUsed(m),
      clear: () => void messages.splice(0, messages.length),
    };
  }

  /**
   * Starts an emulator on 127.0.0.1 (`port` 0 by default) with the default seed. Without `clientId` the
   * client is `'ezid-test-client'`; without `clientSecret` a random secret is generated for this
   * emulator (never logged; `moduleOptions()` passes it to the module).
   */
  static async start(options: Partial<EzidEmulatorOptions> = {}): Promise<EzidEmulator> {
    if (options === null || typeof options !== 'object') {
      throw new TypeError('EzidEmulator.start(options?) takes an options object');
    }
    for (const key of ['clientId', 'clientSecret'] as const) {
      if (
        key in options &&
        options[key] !== undefined &&
        (typeof options[key] !== 'string' || !options[key])
      ) {
        throw new TypeError(`EzidEmulator.start(): ${key} must be a non-empty string when given`);
      }
    }
    const resolved: EzidEmulatorOptions = {
      ...options,
      clientId: options.clientId ?? EZID_EMULATOR_DEFAULT_CLIENT_ID,
      clientSecret: options.clientSecret ?? `emu_${randomBytes(24).toString('base64url')}`,
    };
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(resolved.port ?? 0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const emulator = new EzidEmulator(server, resolved, `http://127.0.0.1:${port}`);
    RUNNING.set(emulator.url, emulator);
    server.on('connection', (socket: Socket) => {
      emulator.sockets.add(socket);
      socket.on('close', () => emulator.sockets.delete(socket));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void emulator.handle(req, res));
    return emulator;
  }

  /** PEM (SPKI) of the current signing key, for `token.publicKey` style verification. */
  get publicKeyPem(): string {
    return this.currentKey.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  /** `kid` of the current signing key. */
  get currentKid(): string {
    return this.currentKey.kid;
  }

  /** Stops the server and destroys every connection, hung and dribbling ones included. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (RUNNING.get(this.url) === this) RUNNING.delete(this.url);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await closed;
  }

  /** Replaces users, tenants, roles and permissions (flows, tokens and passkeys are kept). */
  seed(data: EmulatorSeed): void {
    this.store.load(data);
  }

  /**
   * Sets (or with `roles: null`, removes) a user's membership of a tenant. Tenants and roles by id or name.
   */
  setMembership(user: string, tenant: string, roles: string[] | null, status = 'Verified'): void {
    const u = this.requireUser(user);
    const t = this.store.tenantByRef(tenant);
    u.memberships = u.memberships.filter((m) => m.tenantId !== t.id);
    if (roles)
      u.memberships.push({ tenantId: t.id, roleIds: roles.map((r) => this.store.roleByRef(r).id), status });
  }

  /** The stored user (by id, email or phone), or `undefined`. */
  getUser(ref: string): Readonly<StoredUser> | undefined {
    return this.store.findUser(ref);
  }

  /** Adds a user (e.g. for an e2e test) and returns its id. */
  addUser(user: {
    id?: string;
    email: string;
    firstName?: string;
    lastName?: string;
    phone?: string;
  }): string {
    const now = new Date();
    const id = user.id ?? objectId();
    this.store.users.set(id, {
      id,
      email: user.email,
      firstName: user.firstName,
      lastName: user.lastName,
      phone: user.phone,
      connectionType: 'ManualUser',
      memberships: [],
      createdAt: now,
      modifiedAt: now,
      lastLoginAt: null,
      emailVerified: true,
    });
    return id;
  }

  /** Generates a new 2048-bit signing key and returns its `kid`. `keepOld` (default true) keeps the old key published. */
  rotateKeys(opts: { keepOld?: boolean } = {}): string {
    const old = this.currentKey;
    this.currentKey = generateEmulatorKey(2048);
    this.keys.set(this.currentKey.kid, this.currentKey);
    this.published.add(this.currentKey.kid);
    if (opts.keepOld === false) this.published.delete(old.kid);
    return this.currentKey.kid;
  }

  /** Adds a key (e.g. a weak 1024-bit one), published by default; does not change the signing key. */
  addKey(opts: { bits?: number; kid?: string; publish?: boolean } = {}): EmulatorKeyPair {
    const key = generateEmulatorKey(opts.bits ?? 2048, opts.kid ?? objectId());
    this.keys.set(key.kid, key);
    if (opts.publish !== false) this.published.add(key.kid);
    return key;
  }

  /** Unpublishes a key from the JWKS (tokens it signed no longer verify against the JWKS). */
  removeKey(kid: string): void {
    this.published.delete(kid);
  }

  /** Serves exactly this JSON as the JWKS; `null` returns to the real key set. */
  setJwksDocument(doc: unknown | null): void {
    this.jwksOverride = doc;
  }

  /** The JWKS document currently served. */
  jwks(): unknown {
    if (this.jwksOverride !== null) return this.jwksOverride;
    return { keys: [...this.published].map((kid) => publicJwk(this.keys.get(kid)!)) };
  }

  /**
   * An access token for a user (id or email; default `demo@example.com`), `typ: 'at+jwt'`, with claims
   * `iss, sub, aud?, azp, iat, exp, jti, scope, email, given_name, family_name, name, tenants`.
   */
  mintAccessToken(user?: string, overrides: MintOverrides = {}): string {
    return this.mint('access', this.requireUser(user ?? 'demo@example.com'), overrides);
  }

  /** An id token (`typ: 'JWT'`, `aud` = audience or the client id, plus `nonce`). */
  mintIdToken(user?: string, overrides: MintOverrides = {}): string {
    return this.mint('id', this.requireUser(user ?? 'demo@example.com'), overrides);
  }

  /**
   * Module options wired to this emulator, for `EzidModule.forRoot(emu.moduleOptions())`: `clientId`,
   * `clientSecret`, `apiBaseUrl` and `legacyApiBaseUrl` (both `url`), `token.jwksUri`, `token.issuer`,
   * `token.audience` (when the emulator has one) and `callback: false`. `overrides` are merged over them,
   * `token` and `callback` key by key (a key set to `undefined` removes it, e.g.
   * `{ token: { jwksUri: undefined, publicKey: emu.publicKeyPem } }`).
   *
   * @example
   * Test.createTestingModule({ imports: [EzidModule.forRoot(emu.moduleOptions({ callback: { mode: 'cookie' } }))] });
   */
  moduleOptions(overrides: EzidEmulatorModuleOverrides = {}): EzidModuleOptions {
    return mergeModuleOptions(
      {
        clientId: this.clientId,
        clientSecret: this.#clientSecret,
        apiBaseUrl: this.url,
        legacyApiBaseUrl: this.url,
        token: { jwksUri: this.jwksUri, issuer: this.issuer, audience: this.audience },
        callback: false,
      },
      overrides,
    );
  }

  /**
   * The id of a tenant by name (`'org1'` -> `'664e2686a1b2c3d4e5f60001'`) or by id. Routes take the id
   * (`/orgs/${emu.tenantId('org1')}/...`). Throws, naming the known tenants, when there is no such tenant.
   */
  tenantId(nameOrId: string): string {
    const tenant =
      this.store.tenants.get(nameOrId) ?? [...this.store.tenants.values()].find((t) => t.name === nameOrId);
    if (!tenant) {
      const known = [...this.store.tenants.values()].map((t) => `${t.name} (${t.id})`).join(', ') || 'none';
      throw new Error(`EzidEmulator: unknown tenant "${nameOrId}". Known tenants: ${known}.`);
    }
    return tenant.id;
  }

  /**
   * A signed access token for a seeded user (email or id), exactly as the emulator issues at login: its
   * `tenants` claim lists the user's memberships in EZiD's shape, with `options.tenants` merged over them
   * tenant by tenant (or replacing them with `replaceTenants: true`). Throws, naming the known users, for
   * an unknown user, and for an unknown tenant name.
   *
   * @example
   * emu.tokenFor('alice@example.com', { tenants: { org2: ['Admin'] } }); // Member in org1, Admin in org2
   * emu.tokenFor('bob@example.com', { tenants: { org1: { permissions: ['Billing Manage'] } }, replaceTenants: true });
   * emu.tokenFor('demo@example.com', { expiresInSec: -60 }); // already expired
   */
  tokenFor(user: string, options: EzidTestTokenOptions = {}): string {
    const stored = this.store.findUser(user);
    if (!stored) {
      const known =
        [...this.store.users.values()].map((u) => u.email || u.phone || u.id).join(', ') || 'none';
      throw new Error(`EzidEmulator.tokenFor(): unknown user "${user}". Known users: ${known}.`);
    }
    const tenants = buildTenantsClaim(this.store, stored, options, (ref) => this.tenantId(ref));
    const ttl = options.expiresInSec;
    // An expired token that is otherwise valid: issued a minute before it expired (not `exp < iat`).
    const issuedAt = ttl !== undefined && ttl <= 0 ? Math.floor(Date.now() / 1000) + ttl - 60 : undefined;
    return this.mint('access', stored, {
      claims: { tenants, ...(options.claims ?? {}) },
      expiresInSec: issuedAt === undefined ? ttl : 60,
      issuedAt,
    });
  }

  /** `{ authorization: 'Bearer <tokenFor(user, options)>' }`, for supertest's `.set()` or `fetch` headers. */
  authHeader(user: string, options: EzidTestTokenOptions = {}): { authorization: string } {
    return { authorization: `Bearer ${this.tokenFor(user, options)}` };
  }

  /** @internal The running emulator serving `url`, if any (used by `ezidRunAs`). */
  static running(url: string): EzidEmulator | undefined {
    return RUNNING.get(url.replace(/\/+$/, ''));
  }

  /** Injects a fault on an endpoint (table name or `'jwks'`); `null` clears it. */
  fault(endpoint: string, fault: EmulatorFault | null): void {
    this.assertEndpointName(endpoint);
    if (fault) this.faults.set(endpoint, { ...fault });
    else this.faults.delete(endpoint);
  }

  /** Clears every fault. */
  clearFaults(): void {
    this.faults.clear();
  }

  /** Requests received by an endpoint (table name or `'jwks'`), faulted ones included. */
  requestCount(endpoint: string): number {
    this.assertEndpointName(endpoint);
    return this.counters.get(endpoint) ?? 0;
  }

  /** Resets every request counter. */
  resetCounters(): void {
    this.counters.clear();
  }

  /** Whether an outbox message's link or code was used or has expired (see `EmulatorOutbox.isUsed`). */
  private isUsed(m: OutboxMessage): boolean {
    if (m.kind === 'legacy-email-link') {
      const payload = m.code
        ? verifyHs256(m.code, this.store.linkSecret, Math.floor(Date.now() / 1000))
        : undefined;
      const pending = payload ? this.store.legacyLinks.get(String(payload.uuid)) : undefined;
      return !pending || pending.used;
    }
    const flow = m.state ? this.store.flows.get(m.state) : undefined;
    return !flow || flow.consumed || flow.expiresAt <= Date.now();
  }

  /** @internal Records a message in the outbox. */
  deliver(message: Omit<OutboxMessage, 'sentAt'>): void {
    this.messages.push(Object.freeze({ ...message, sentAt: new Date() }));
  }

  /** @internal Issues a token set for a user (after a successful login). */
  issueTokens(
    user: StoredUser,
    family: 'api' | 'legacy',
    extraAccessClaims: Record<string, unknown> = {},
  ): { accessToken: string; idToken: string; refreshToken: string; expiresAt: Date } {
    user.lastLoginAt = new Date();
    const logs = this.store.loginLogs.get(user.id) ?? [];
    logs.push({ ipAddress: '127.0.0.1', userAgent: 'EZiD Emulator', createdAt: user.lastLoginAt });
    this.store.loginLogs.set(user.id, logs.slice(-100));
    const iat = Math.floor(Date.now() / 1000);
    return {
      accessToken: this.mint('access', user, { claims: extraAccessClaims, issuedAt: iat }),
      idToken: this.mint('id', user, { issuedAt: iat }),
      refreshToken: this.store.newRefreshToken(user.id, family, 30 * 86400),
      expiresAt: new Date((iat + this.accessTokenTtlSec) * 1000),
    };
  }

  /**
   * Issues a single-use SSO/OAuth code for `tokens.byAuthCode` (as if the user had just signed in
   * through SSO and been redirected back with `?code=&state=`).
   */
  issueAuthCode(user: string, state: string): string {
    const u = this.requireUser(user);
    const code = objectId() + objectId();
    this.store.authCodes.set(code, { userId: u.id, state, expiresAt: Date.now() + this.codeTtlSec * 1000 });
    return code;
  }

  /** @internal The path of a table endpoint (overrides applied). */
  endpointPath(name: EzidEndpointName): string {
    return this.routes.find((r) => r.name === name)!.def.path;
  }

  /** @internal Verifies an RS256 token signed by a published emulator key; returns its `sub`. */
  verifyOwnToken(token: string): string | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    try {
      const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as Record<
        string,
        unknown
      >;
      const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as Record<
        string,
        unknown
      >;
      const kid = typeof header.kid === 'string' ? header.kid : '';
      const key = this.published.has(kid) ? this.keys.get(kid) : undefined;
      if (!key || header.alg !== 'RS256') return undefined;
      const ok = verify(
        'sha256',
        Buffer.from(`${parts[0]}.${parts[1]}`),
        key.publicKey,
        Buffer.from(parts[2], 'base64url'),
      );
      if (!ok || payload.iss !== this.issuer) return undefined;
      if (typeof payload.exp !== 'number' || payload.exp <= Date.now() / 1000) return undefined;
      return typeof payload.sub === 'string' ? payload.sub : undefined;
    } catch {
      return undefined;
    }
  }

  /** @internal Checks the legacy body credentials. */
  checkLegacyCredentials(body: Record<string, unknown>): string | undefined {
    if (body.client_id !== this.clientId) return 'Client is not registered';
    if (body.client_secret !== this.#clientSecret) return 'Invalid Client Secret';
    return undefined;
  }

  private requireUser(ref: string): StoredUser {
    const user = this.store.findUser(ref);
    if (!user) throw new Error(`EzidEmulator: unknown user "${ref}"`);
    return user;
  }

  private assertEndpointName(name: string): void {
    if (name !== 'jwks' && !this.routes.some((r) => r.name === name)) {
      throw new Error(`EzidEmulator: unknown endpoint "${name}"`);
    }
  }

  private mint(kind: 'access' | 'id', user: StoredUser, o: MintOverrides): string {
    const iat = o.issuedAt ?? Math.floor(Date.now() / 1000);
    const exp = iat + (o.expiresInSec ?? this.accessTokenTtlSec);
    const base: Record<string, unknown> = {
      iss: this.issuer,
      sub: user.id,
      ...(kind === 'access'
        ? { aud: this.audience, azp: this.clientId, scope: 'openid profile email' }
        : { aud: this.audience ?? this.clientId, nonce: randomUUID() }),
      iat,
      exp,
      jti: randomUUID(),
      email: user.email || undefined,
      given_name: user.firstName,
      family_name: user.lastName,
      name: [user.firstName, user.lastName].filter(Boolean).join(' ') || undefined,
      tenants: this.store.tenantsClaim(user),
    };
    const claims = dropUndefined({ ...base, ...(o.claims ?? {}) });
    const algorithm = o.algorithm ?? 'RS256';
    let signingKey = this.currentKey.privateKey;
    let kid: string | undefined = this.currentKey.kid;
    if (o.signWith === 'wrong-key') {
      signingKey = generateEmulatorKey(2048).privateKey;
    } else if (o.signWith && o.signWith !== 'current') {
      signingKey = o.signWith.privateKey;
      kid = o.signWith.kid;
    }
    const header = dropUndefined({
      alg: algorithm,
      typ: kind === 'access' ? 'at+jwt' : 'JWT',
      kid,
      ...(o.header ?? {}),
    });
    return signJws(header, claims, algorithm, signingKey, o.hmacSecret);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!isLoopbackRequest(req)) {
      return this.send(res, {
        status: 403,
        body: apiError(403, 'host_not_allowed', 'The emulator answers loopback hosts and origins only'),
      });
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', this.url);
    } catch {
      return this.send(res, { status: 400, body: apiError(400, 'malformed_request', 'Malformed request') });
    }
    const method = (req.method ?? 'GET').toUpperCase();
    let name: string | undefined;
    let route: Route | undefined;
    let params: Record<string, string> = {};
    if (method === 'GET' && JWKS_PATHS.has(url.pathname)) {
      name = 'jwks';
    } else {
      for (const r of this.routes) {
        if (r.def.method !== method) continue;
        const p = r.match(url.pathname);
        if (p) {
          route = r;
          params = p;
          name = r.name;
          break;
        }
      }
    }
    if (!name) return this.send(res, { status: 404, body: apiError(404, 'not_found', 'Not Found') });
    this.counters.set(name, (this.counters.get(name) ?? 0) + 1);

    const fault = this.takeFault(name);
    if (fault?.latencyMs) await this.delay(fault.latencyMs);
    if (fault?.gate) await Promise.resolve(fault.gate).catch(() => undefined);
    if (this.stopped) return;
    if (fault?.hang) return; // the socket stays open until stop()
    if (fault?.redirect) {
      res.writeHead(302, { location: fault.redirect, 'content-length': '0' }).end();
      return;
    }
    if (fault?.status) {
      const body = fault.body ?? JSON.stringify(apiError(fault.status, 'emulator_fault', 'Injected fault'));
      res.writeHead(fault.status, { 'content-type': 'application/json' }).end(body);
      return;
    }
    if (fault?.malformed) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"authenticated": tru');
      return;
    }

    let response: EmulatorResponse;
    if (name === 'jwks') {
      response = { status: 200, body: this.jwks(), headers: { 'cache-control': 'max-age=300' } };
    } else {
      const raw = await this.readBody(req);
      if (raw === undefined) {
        response = { status: 413, body: apiError(413, 'payload_too_large', 'Request body too large') };
      } else {
        response = await this.dispatch(route!, params, url, req, raw);
      }
    }
    if (fault?.holdResponse) await Promise.resolve(fault.holdResponse).catch(() => undefined);
    if (this.stopped) return;
    if (fault?.dribble) return this.dribble(res, response, fault.dribble);
    this.send(res, response);
  }

  private async dispatch(
    route: Route,
    params: Record<string, string>,
    url: URL,
    req: IncomingMessage,
    raw: string,
  ): Promise<EmulatorResponse> {
    let body: Record<string, unknown> = {};
    if (raw.length > 0) {
      try {
        const parsed: unknown = JSON.parse(raw);
        if (parsed && typeof parsed === 'object') body = parsed as Record<string, unknown>;
      } catch {
        return route.def.clientId === 'body'
          ? { status: this.options.legacyErrorStatus ?? 400, body: legacyError('Malformed request body') }
          : { status: 400, body: apiError(400, 'malformed_request', 'Malformed request body') };
      }
    }
    const request: EmulatorRequest = {
      name: route.name,
      def: route.def,
      params,
      query: url.searchParams,
      headers: req.headers,
      body,
    };
    // Client credentials, exactly where the table says they travel.
    if (route.def.clientId === 'body') {
      const reason = this.checkLegacyCredentials(body);
      if (reason) return { status: this.options.legacyErrorStatus ?? 400, body: legacyError(reason) };
    } else {
      const fromQuery = url.searchParams.get('client_id');
      const fromHeader = req.headers['x-client-id'];
      const given = [fromQuery, typeof fromHeader === 'string' ? fromHeader : undefined].filter(
        (v): v is string => v !== null && v !== undefined,
      );
      if (given.length === 0 || given.some((v) => v !== this.clientId)) {
        return { status: 401, body: apiError(401, 'invalid_client', 'Invalid Client ID') };
      }
    }
    const handler = EMULATOR_HANDLERS[route.name];
    if (!handler)
      return { status: 501, body: apiError(501, 'not_implemented', 'Not implemented by the emulator') };
    try {
      return await handler(request, this);
    } catch {
      return { status: 500, body: apiError(500, 'internal_error', 'Internal Server Error') };
    }
  }

  private takeFault(name: string): EmulatorFault | undefined {
    const fault = this.faults.get(name);
    if (!fault) return undefined;
    if (fault.times !== undefined) {
      fault.times -= 1;
      if (fault.times <= 0) this.faults.delete(name);
    }
    return fault;
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  private readBody(req: IncomingMessage): Promise<string | undefined> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let tooLarge = false;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_REQUEST_BYTES) tooLarge = true;
        else chunks.push(chunk);
      });
      req.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks).toString('utf8')));
      req.on('error', () => resolve(undefined));
    });
  }

  private serialize(response: EmulatorResponse): { payload: Buffer; headers: Record<string, string> } {
    const isText = typeof response.body === 'string';
    const payload = Buffer.from(isText ? (response.body as string) : JSON.stringify(response.body ?? {}));
    return {
      payload,
      headers: {
        'content-type': response.contentType ?? (isText ? 'text/plain; charset=utf-8' : 'application/json'),
        ...(response.headers ?? {}),
      },
    };
  }

  private send(res: ServerResponse, response: EmulatorResponse): void {
    const { payload, headers } = this.serialize(response);
    res.writeHead(response.status, { ...headers, 'content-length': String(payload.length) }).end(payload);
  }

  private dribble(
    res: ServerResponse,
    response: EmulatorResponse,
    opts: { intervalMs: number; bytes?: number },
  ): void {
    const { payload, headers } = this.serialize(response);
    res.writeHead(response.status, { ...headers, 'content-length': String(payload.length) });
    const step = Math.max(1, opts.bytes ?? 1);
    let offset = 0;
    const tick = (): void => {
      if (this.stopped || res.destroyed) return;
      res.write(payload.subarray(offset, offset + step));
      offset += step;
      if (offset >= payload.length) {
        res.end();
        return;
      }
      const t = setTimeout(() => {
        this.timers.delete(t);
        tick();
      }, opts.intervalMs);
      this.timers.add(t);
    };
    tick();
  }
}

/** Running emulators by `url`, so `ezidRunAs` can mint for `{ user }` from the app's `apiBaseUrl`. */
const RUNNING = new Map<string, EzidEmulator>();

function dropUndefined(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) out[k] = v;
  return out;
}

/** Hostname of a `Host` header or an origin, or `undefined` when it does not parse. */
function hostnameOf(value: string, prefix: string): string | undefined {
  try {
    return new URL(prefix + value).hostname;
  } catch {
    return undefined;
  }
}

/**
 * DNS-rebinding and drive-by defence: the `Host` must name a loopback host (exactly `localhost`,
 * 127.0.0.0/8 or `[::1]`), and a browser's `Origin`, when sent, must be a loopback origin too. A page
 * on another site that rebinds its name to 127.0.0.1 sends its own name as `Host`; a page that posts
 * to `http://127.0.0.1:<port>` directly sends its own `Origin`.
 */
function isLoopbackRequest(req: IncomingMessage): boolean {
  const host = req.headers.host;
  const hostname = typeof host === 'string' && host.length > 0 ? hostnameOf(host, 'http://') : undefined;
  if (hostname === undefined || !isLoopbackHost(hostname)) return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (!/^https?:\/\//i.test(origin)) return false;
  const originHost = hostnameOf(origin, '');
  return originHost !== undefined && isLoopbackHost(originHost);
}
