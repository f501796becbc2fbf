import { EzidTokenError } from './ezid-token.errors';

/** The JOSE header fields the verifier reads. Everything else (`jku`, `x5u`, `jwk`, `x5c`, ...) is ignored. */
export interface JwsHeader {
  readonly alg: string;
  readonly kid?: string;
  readonly typ?: string;
}

/** A compact JWS split and decoded, before any signature or claim check. */
export interface ParsedJws {
  readonly header: JwsHeader;
  readonly payload: Readonly<Record<string, unknown>>;
  /** `base64url(header) + '.' + base64url(payload)`, the bytes the signature covers. */
  readonly signingInput: string;
  readonly signature: Buffer;
}

/** The whole compact form: three non-empty base64url segments, nothing else (RFC 8725bis format check). */
const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** A `kid` we are willing to look up: printable ASCII, bounded. */
const KID = /^[\x21-\x7e]{1,256}$/;

const B64URL_VALUE = new Int8Array(128).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  .split('')
  .forEach((c, i) => (B64URL_VALUE[c.charCodeAt(0)] = i));

/**
 * True when `seg` is the one canonical unpadded base64url encoding of its bytes: the length is not
 * 1 mod 4 and the unused low bits of the last character are zero. This makes the token string
 * non-malleable (checklist A6/A7).
 */
export function isCanonicalBase64Url(seg: string): boolean {
  const r = seg.length % 4;
  if (r === 0) return true;
  if (r === 1) return false;
  const v = B64URL_VALUE[seg.charCodeAt(seg.length - 1)];
  return r === 2 ? (v & 0x0f) === 0 : (v & 0x03) === 0;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeJsonObject(seg: string, what: string, checkDuplicates: boolean): Record<string, unknown> {
  let text: string;
  let value: unknown;
  try {
    text = utf8.decode(Buffer.from(seg, 'base64url'));
    value = JSON.parse(text);
  } catch {
    throw new EzidTokenError('token_malformed', `${what}_not_json`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new EzidTokenError('token_malformed', `${what}_not_object`);
  }
  if (checkDuplicates && hasDuplicateTopLevelKeys(text)) {
    throw new EzidTokenError('token_malformed', `${what}_duplicate_member`);
  }
  return value as Record<string, unknown>;
}

/**
 * Whether a syntactically valid JSON object text names the same top-level member twice
 * (`JSON.parse` silently keeps the last one, e.g. `{"alg":"RS256","alg":"none"}`).
 */
export function hasDuplicateTopLevelKeys(json: string): boolean {
  const seen = new Set<string>();
  let depth = 0;
  let i = 0;
  const n = json.length;
  while (i < n) {
    const c = json.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      i++;
      while (i < n) {
        const d = json.charCodeAt(i);
        if (d === 0x5c /* \ */) i += 2;
        else if (d === 0x22) break;
        else i++;
      }
      const end = ++i;
      if (depth === 1) {
        let j = i;
        while (j < n && (json[j] === ' ' || json[j] === '\t' || json[j] === '\n' || json[j] === '\r')) j++;
        if (json[j] === ':') {
          const key = JSON.parse(json.slice(start, end)) as string;
          if (seen.has(key)) return true;
          seen.add(key);
        }
      }
      continue;
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) depth++;
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
    i++;
  }
  return false;
}

/** Header segments seen recently, parsed once: the same few headers (alg, kid, typ) repeat on every request. */
const headerCache = new Map<string, JwsHeader | EzidTokenError>();
const HEADER_CACHE_MAX = 256;

function parseHeader(seg: string): JwsHeader {
  const cached = headerCache.get(seg);
  if (cached !== undefined) {
    if (cached instanceof EzidTokenError) throw new EzidTokenError(cached.code, cached.reason);
    return cached;
  }
  let result: JwsHeader | EzidTokenError;
  try {
    result = readHeader(decodeJsonObject(seg, 'header', true));
  } catch (e) {
    result = e as EzidTokenError;
  }
  if (headerCache.size >= HEADER_CACHE_MAX) headerCache.clear();
  headerCache.set(seg, result);
  if (result instanceof EzidTokenError) throw new EzidTokenError(result.code, result.reason);
  return result;
}

function readHeader(h: Record<string, unknown>): JwsHeader {
  if (typeof h.alg !== 'string' || h.alg.length === 0)
    throw new EzidTokenError('token_malformed', 'alg_missing');
  // RFC 7515 §4.1.11: an extension we do not understand must make the token invalid; we understand none.
  if (Object.prototype.hasOwnProperty.call(h, 'crit'))
    throw new EzidTokenError('token_invalid', 'crit_present');
  if (h.kid !== undefined && (typeof h.kid !== 'string' || !KID.test(h.kid))) {
    throw new EzidTokenError('token_malformed', 'kid_malformed');
  }
  if (h.typ !== undefined && typeof h.typ !== 'string')
    throw new EzidTokenError('token_malformed', 'typ_malformed');
  return Object.freeze({ alg: h.alg, kid: h.kid as string | undefined, typ: h.typ as string | undefined });
}

/**
 * Splits and decodes a compact JWS with no cryptography and no I/O. Rejects, before decoding
 * anything: non-strings, tokens longer than `maxBytes`, anything but three non-empty base64url
 * segments (so JWE, `=` padding, `+/`, spaces), and non-canonical base64url. Then rejects headers
 * and payloads that are not JSON objects, headers with duplicate members, `crit`, and malformed `kid`.
 */
export function parseCompactJws(token: unknown, maxBytes: number): ParsedJws {
  if (typeof token !== 'string' || token.length === 0)
    throw new EzidTokenError('token_malformed', 'not_a_string');
  if (token.length > maxBytes) throw new EzidTokenError('token_malformed', 'too_long');
  if (!COMPACT.test(token)) throw new EzidTokenError('token_malformed', 'not_compact_jws');
  const d1 = token.indexOf('.');
  const d2 = token.indexOf('.', d1 + 1);
  const h = token.slice(0, d1);
  const p = token.slice(d1 + 1, d2);
  const s = token.slice(d2 + 1);
  if (!isCanonicalBase64Url(h) || !isCanonicalBase64Url(p) || !isCanonicalBase64Url(s)) {
    throw new EzidTokenError('token_malformed', 'non_canonical_base64url');
  }
  const header = parseHeader(h);
  let payload: Record<string, unknown>;
  try {
    payload = decodeJsonObject(p, 'payload', false);
  } catch (e) {
    (e as EzidTokenError).kid = header.kid;
    throw e;
  }
  return { header, payload, signingInput: token.slice(0, d2), signature: Buffer.from(s, 'base64url') };
}
