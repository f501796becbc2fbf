import { EzidTokenError } from './ezid-token.errors';

/** The parts of an Express or Fastify request the extractor reads. */
export interface EzidHttpRequestLike {
  headers?: Record<string, string | string[] | undefined>;
  url?: string;
  /** Express and Fastify: the URL as received, before any rewrite of `url`. */
  originalUrl?: string;
  body?: unknown;
  cookies?: Record<string, unknown>;
}

/** `Bearer <token>`: exactly one scheme (case-insensitive, RFC 7235), one token, nothing after it. */
const BEARER = /^bearer +([^\s,]+)$/i;
/**
 * The common form, checked first: `Bearer ` then a token of b64token characters (RFC 6750 §2.1), none
 * of them a space or a comma, so `BEARER` would capture exactly that token. One class test over the
 * token instead of the case-insensitive capture (~1 µs less for a 1.2 KB token); anything else goes
 * through `BEARER`.
 */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Strict `Authorization` parsing. `undefined` when the header is absent; `token_malformed` when it
 * is anything but `Bearer <token>`: another scheme, trailing junk, two schemes or two tokens.
 * `known(token)`, when given, may vouch for the common form's token (a string the verifier has
 * verified, so a compact JWS): it is then not scanned again.
 */
export function parseAuthorizationHeader(
  value: unknown,
  known?: (token: string) => boolean,
): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new EzidTokenError('token_malformed', 'header_not_single');
  if (value.startsWith('Bearer ')) {
    const token = value.slice(7);
    if (known?.(token) || B64TOKEN.test(token)) return token;
  }
  const m = BEARER.exec(value);
  if (!m) throw new EzidTokenError('token_malformed', 'header_not_bearer');
  return m[1];
}

/** Reads one cookie from the raw `Cookie` header; `invalid_request` when it appears twice with different values. */
export function readCookie(cookieHeader: unknown, name: string): string | undefined {
  if (typeof cookieHeader !== 'string' || cookieHeader.indexOf(name) === -1) return undefined;
  let found: string | undefined;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
    let v = part.slice(eq + 1).trim();
    if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    if (found !== undefined && found !== v) throw new EzidTokenError('invalid_request', 'cookie_duplicate');
    found = v;
  }
  return found === '' ? undefined : found;
}

/**
 * Whether the query string of a raw request URL names `access_token`, with URLSearchParams
 * semantics: any percent-encoding of the name (`access%5Ftoken`, `%61ccess_token`), any value
 * (empty, none), any number of times.
 */
export function hasQueryToken(url: unknown): boolean {
  if (typeof url !== 'string') return false;
  const q = url.indexOf('?');
  if (q === -1) return false;
  const query = url.slice(q + 1);
  // Without a '%', decoding only turns '+' into ' ': the name can then only appear literally.
  if (query.indexOf('%') === -1 && query.indexOf('access_token') === -1) return false;
  return new URLSearchParams(query).has('access_token');
}

function hasBodyToken(body: unknown): boolean {
  return !!body && typeof body === 'object' && Object.prototype.hasOwnProperty.call(body, 'access_token');
}

/**
 * The access token of an HTTP request (Express or Fastify), or `undefined` when none was sent.
 * Sources: the `Authorization: Bearer` header, and the `cookieName` cookie when configured.
 * Query (`?access_token=`) and form-body tokens are not accepted: alone they count as no token,
 * together with a header or cookie token they are `invalid_request` (RFC 6750 §2: one method only).
 * A header and a cookie carrying different tokens are `invalid_request` too. `known`: see
 * `parseAuthorizationHeader`.
 */
export function extractHttpToken(
  req: EzidHttpRequestLike,
  cookieName?: string,
  known?: (token: string) => boolean,
): string | undefined {
  const headers = req.headers ?? {};
  const fromHeader = parseAuthorizationHeader(headers.authorization, known);
  let fromCookie: string | undefined;
  if (cookieName) {
    fromCookie = readCookie(headers.cookie, cookieName);
    if (fromCookie === undefined && headers.cookie === undefined && req.cookies) {
      const c = req.cookies[cookieName];
      if (typeof c === 'string' && c !== '') fromCookie = c;
    }
  }
  const token = fromHeader ?? fromCookie;
  if (token === undefined) return undefined;
  if (fromHeader !== undefined && fromCookie !== undefined && fromHeader !== fromCookie) {
    throw new EzidTokenError('invalid_request', 'token_in_header_and_cookie');
  }
  if (
    hasQueryToken(req.url) ||
    (req.originalUrl !== req.url && hasQueryToken(req.originalUrl)) ||
    hasBodyToken(req.body)
  )
    throw new EzidTokenError('invalid_request', 'token_in_two_places');
  return token;
}

function bearerFromMeta(headers: unknown): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  const h = headers as Record<string, unknown> & { get?: unknown };
  let v: unknown = Object.prototype.hasOwnProperty.call(h, 'authorization') ? h.authorization : undefined;
  if (v === undefined && typeof h.get === 'function') {
    v = (h.get as (k: string) => unknown).call(h, 'authorization'); // gRPC Metadata, NATS headers
    if (Array.isArray(v)) v = v.length === 1 ? v[0] : v.length === 0 ? undefined : v;
  }
  if (Buffer.isBuffer(v)) v = v.toString('latin1'); // Kafka headers
  return parseAuthorizationHeader(v);
}

function single(a: string | undefined, b: string | undefined): string | undefined {
  if (a !== undefined && b !== undefined && a !== b)
    throw new EzidTokenError('invalid_request', 'token_in_two_places');
  return a ?? b;
}

/**
 * The access token of a WebSocket message: from the handshake (socket.io `handshake.auth.token` or
 * `handshake.headers.authorization`; with the `ws` adapter, `client.request.headers.authorization`
 * when the gateway saved the upgrade request there) or from the message metadata
 * (`data.headers.authorization`). Two different tokens are `invalid_request`. The handshake URL's
 * `?access_token=` is never read: alone it is no token, next to a token `invalid_request` (as over HTTP).
 */
export function extractWsToken(client: unknown, data: unknown): string | undefined {
  const c = (client ?? {}) as {
    handshake?: { auth?: { token?: unknown }; headers?: unknown; url?: unknown };
    request?: { headers?: unknown; url?: unknown };
  };
  let fromHandshake: string | undefined;
  const authToken = c.handshake?.auth?.token;
  if (authToken !== undefined) {
    if (typeof authToken !== 'string' || authToken === '')
      throw new EzidTokenError('token_malformed', 'ws_auth_token');
    fromHandshake = authToken.startsWith('Bearer ') ? parseAuthorizationHeader(authToken) : authToken;
  }
  fromHandshake = single(fromHandshake, bearerFromMeta(c.handshake?.headers));
  fromHandshake = single(fromHandshake, bearerFromMeta(c.request?.headers));
  const fromMessage =
    data && typeof data === 'object' ? bearerFromMeta((data as { headers?: unknown }).headers) : undefined;
  const token = single(fromHandshake, fromMessage);
  if (token !== undefined && (hasQueryToken(c.handshake?.url) || hasQueryToken(c.request?.url)))
    throw new EzidTokenError('invalid_request', 'token_in_two_places');
  return token;
}

/**
 * The handshake request of a WebSocket client: socket.io's `handshake`, or the upgrade request a
 * `@nestjs/platform-ws` gateway kept as `client.request`. `undefined` when neither is there.
 */
export function wsHandshakeRequest(client: unknown): { headers?: unknown; url?: unknown } | undefined {
  const c = (client ?? {}) as {
    handshake?: { headers?: unknown; url?: unknown };
    request?: { headers?: unknown; url?: unknown };
  };
  const hs = c.handshake ?? c.request;
  return hs && typeof hs === 'object' ? hs : undefined;
}

/**
 * The access token of a microservice message: from the transport metadata (gRPC `Metadata`,
 * NATS/Kafka/RMQ headers) or from a `headers.authorization` member of the payload (TCP and
 * transports without headers). Two different tokens are `invalid_request`.
 */
export function extractRpcToken(rpcContext: unknown, data: unknown): string | undefined {
  let fromMeta: string | undefined;
  for (const carrier of rpcHeaderCarriers(rpcContext)) fromMeta ??= bearerFromMeta(carrier);
  const fromData =
    data && typeof data === 'object' ? bearerFromMeta((data as { headers?: unknown }).headers) : undefined;
  return single(fromMeta, fromData);
}

/**
 * @internal The transport header containers of a microservice context, as Nest builds it: the gRPC
 * `Metadata` itself (`get` + `getMap`), NATS headers (`getHeaders()`), Kafka message headers and RMQ
 * message `properties.headers` (`getMessage()`). Read for the access token and for the tenant header.
 */
export function rpcHeaderCarriers(rpcContext: unknown): unknown[] {
  const ctx = rpcContext as {
    get?: unknown;
    getMap?: unknown;
    getHeaders?: () => unknown;
    getMessage?: () => { headers?: unknown; properties?: { headers?: unknown } } | undefined;
  } | null;
  if (!ctx || typeof ctx !== 'object') return [];
  if (typeof ctx.get === 'function' && typeof ctx.getMap === 'function') return [ctx];
  if (typeof ctx.getHeaders === 'function') return [ctx.getHeaders()];
  if (typeof ctx.getMessage === 'function') {
    const m = ctx.getMessage();
    return [m?.headers, m?.properties?.headers];
  }
  return [];
}
