import { EzidValidationError } from './ezid-api.error';

/** Characters that end or escape a path segment, and control characters (C0, DEL, C1). */
// eslint-disable-next-line no-control-regex -- rejecting control characters is the point
const UNSAFE_IN_SEGMENT = /[/?#\\\u0000-\u001f\u007f-\u009f]/;
/** The same, for percent-decoded layers (bytes 0x80-0x9f there are UTF-8 continuation bytes). */
// eslint-disable-next-line no-control-regex -- rejecting control characters is the point
const UNSAFE_IN_DECODED_SEGMENT = /[/?#\\\u0000-\u001f\u007f]/;
/** A lone surrogate: in `u` mode a surrogate pair is one code point, so only unpaired halves match. */
const LONE_SURROGATE = /\p{Cs}/u;
const PERCENT_OCTET = /%([0-9A-Fa-f]{2})/g;
/** Percent-decoding layers checked: one more than any server or proxy chain should ever apply. */
const DECODING_LAYERS = 3;

/** @internal Checks of `EzidService` arguments, run before any request. Each throws `EzidValidationError`. */
export class EzidInput {
  constructor(private readonly endpoint: string) {}

  private fail(field: string, problem: string): never {
    throw new EzidValidationError(this.endpoint, field, problem);
  }

  /** EZiD ids are 24-hex Mongo ObjectIds (ezid-api.md §1). */
  id(field: string, v: unknown): string {
    if (typeof v !== 'string' || !/^[0-9a-fA-F]{24}$/.test(v)) this.fail(field, 'must be a 24-hex EZiD id');
    return v;
  }

  ids(field: string, v: unknown): string[] {
    if (!Array.isArray(v)) this.fail(field, 'must be an array of 24-hex EZiD ids');
    v.forEach((x, i) => this.id(`${field}[${i}]`, x));
    return v as string[];
  }

  email(field: string, v: unknown): string {
    if (
      typeof v !== 'string' ||
      v.length > 254 ||
      !/^[^\s@"<>()[\]\\,;:]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/.test(
        v,
      )
    ) {
      this.fail(field, 'must be an email address');
    }
    return v;
  }

  /** E.164: `+`, then 8 to 15 digits, no leading zero. */
  phone(field: string, v: unknown): string {
    if (typeof v !== 'string' || !/^\+[1-9][0-9]{7,14}$/.test(v)) {
      this.fail(field, 'must be an E.164 phone number (e.g. +15551234567)');
    }
    return v;
  }

  /** A non-blank string of at most `max` characters. */
  name(field: string, v: unknown, max = 200): string {
    if (typeof v !== 'string' || v.trim().length === 0) this.fail(field, 'must be a non-empty string');
    if (v.length > max) this.fail(field, `must be at most ${max} characters`);
    return v;
  }

  optionalName(field: string, v: unknown, max = 200): string | undefined {
    return v === undefined ? undefined : this.name(field, v, max);
  }

  /** An opaque token or code (MFA token, oob_code, WebAuthn credential id): printable, no spaces. */
  token(field: string, v: unknown, max = 4096): string {
    if (typeof v !== 'string' || v.length === 0 || v.length > max || !/^[\x21-\x7e]+$/.test(v)) {
      this.fail(field, 'must be a non-empty token without spaces');
    }
    return v;
  }

  /** An OTP or a backup code: 4 to 32 letters, digits or dashes. */
  code(field: string, v: unknown): string {
    if (typeof v !== 'string' || !/^[A-Za-z0-9-]{4,32}$/.test(v)) {
      this.fail(field, 'must be 4 to 32 letters, digits or dashes');
    }
    return v;
  }

  /** An email domain such as `example.com`. */
  domain(field: string, v: unknown): string {
    if (
      typeof v !== 'string' ||
      v.length > 253 ||
      !/^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/.test(v)
    ) {
      this.fail(field, 'must be a domain name such as example.com');
    }
    return v;
  }

  domains(field: string, v: unknown): string[] | undefined {
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) this.fail(field, 'must be an array of domain names');
    v.forEach((d, i) => this.domain(`${field}[${i}]`, d));
    return v as string[];
  }

  int(field: string, v: unknown, min: number, max: number): number | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(field, `must be an integer from ${min} to ${max}`);
    }
    return v;
  }

  bool(field: string, v: unknown): boolean | undefined {
    if (v !== undefined && typeof v !== 'boolean') this.fail(field, 'must be a boolean');
    return v as boolean | undefined;
  }

  /** A plain object (free-form attributes). */
  record(field: string, v: unknown): Record<string, unknown> | undefined {
    if (v === undefined) return undefined;
    if (!v || typeof v !== 'object' || Array.isArray(v)) this.fail(field, 'must be a plain object');
    return v as Record<string, unknown>;
  }

  /** An optional string field (may be empty). */
  text(field: string, v: unknown, max = 500): string | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.length > max)
      this.fail(field, `must be a string of at most ${max} characters`);
    return v;
  }

  /** One of a fixed set of values. */
  oneOf<T extends string>(field: string, v: unknown, values: readonly T[]): T {
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      this.fail(field, `must be one of ${values.map((x) => `'${x}'`).join(', ')}`);
    }
    return v as T;
  }

  /** An email address, or an E.164 phone number when it starts with `+`. */
  identifier(field: string, v: unknown): string {
    if (typeof v === 'string' && v.startsWith('+')) return this.phone(field, v);
    if (typeof v !== 'string' || !v.includes('@'))
      this.fail(field, 'must be an email address or an E.164 phone number');
    return this.email(field, v);
  }

  /** A required boolean. */
  requiredBool(field: string, v: unknown): boolean {
    if (typeof v !== 'boolean') this.fail(field, 'must be true or false');
    return v;
  }

  /**
   * A value substituted into a path segment: never `.` or `..` (the URL parser would retarget the
   * request), nor `/`, `?`, `#`, `\\` or a control character, in its raw form or after up to three
   * layers of percent-decoding (`%2e`, `%2E%2e`, `%252e`...), nor a lone surrogate (a string that is not
   * well-formed UTF-16 has no UTF-8 form to percent-encode). Runs for every path parameter of every
   * endpoint, in the pipeline, before any request.
   */
  pathSegment(field: string, v: unknown): string {
    if (typeof v !== 'string' || v.length === 0) this.fail(field, 'must be a non-empty string');
    if (LONE_SURROGATE.test(v)) this.fail(field, 'must be well-formed Unicode (no lone surrogate)');
    if (UNSAFE_IN_SEGMENT.test(v)) this.fail(field, 'must not contain /, ?, #, \\ or control characters');
    let cur = v;
    for (let layer = 0; ; layer++) {
      if (cur === '.' || cur === '..')
        this.fail(field, 'must not be "." or ".." (in any percent-encoded form)');
      if (layer > 0 && UNSAFE_IN_DECODED_SEGMENT.test(cur)) {
        this.fail(field, 'must not contain /, ?, #, \\ or control characters, even percent-encoded');
      }
      const next = cur.replace(PERCENT_OCTET, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
      if (next === cur) return v;
      if (layer === DECODING_LAYERS) this.fail(field, 'is percent-encoded too many times');
      cur = next;
    }
  }

  /** The argument object itself. */
  input<T>(field: string, v: T): T {
    if (!v || typeof v !== 'object' || Array.isArray(v)) this.fail(field, 'must be an object');
    return v;
  }
}

/** @internal */
export const check = (endpoint: string): EzidInput => new EzidInput(endpoint);
