/** What every redacted value becomes. */
const REDACTED = '[redacted]';

/**
 * JWT-shaped text: `eyJ` and its base64url run, then up to two `.segment`s. The run is consumed whole
 * and the decision (has a dot) is taken in the replacer, so no start position rescans the run:
 * linear on any input, including `eyJeyJeyJ…`.
 */
const JWT_LIKE = /eyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){0,2}/g;
/** Long runs of token characters; a failed start rescans at most 19 characters: linear. */
const LONG_RUN = /[A-Za-z0-9_\-+/=.~]{20,}/g;
/** 4 to 8 digits between word boundaries (OTPs); bounded lookahead: linear. */
const SHORT_CODE = /\b\d{4,8}\b/g;

/**
 * @internal Provider text is untrusted: cut it to `max` characters FIRST (so the work is bounded by
 * `max`, whatever EZiD sends), remove every value this request carried (and, where the cut split one,
 * the fragment left at the end) also when echoed in another case or percent-/form-encoded (see
 * `redactEncodedForms`), then anything shaped like a credential it may echo from elsewhere
 * (JWTs, long opaque tokens and UUIDs, 4-8 digit codes). Every pattern is linear in its input.
 */
export function redactProviderText(text: string, secrets: readonly string[], max: number): string {
  const cut = text.length > max;
  let out = cut ? text.slice(0, max) : text;
  for (const s of secrets) {
    out = out.split(s).join(REDACTED);
    if (cut) out = redactFragmentAtEnd(out, s);
    out = redactEncodedForms(out, s, cut);
  }
  out = out
    .replace(JWT_LIKE, (m) => (m.includes('.') ? REDACTED : m))
    // Long runs that look random (a digit, or mixed case); keeps codes like `access_token_required`.
    .replace(LONG_RUN, (m) => (/\d/.test(m) || (/[a-z]/.test(m) && /[A-Z]/.test(m)) ? REDACTED : m))
    .replace(SHORT_CODE, REDACTED);
  return out.length > max ? out.slice(0, max) : out;
}

/** Redacts the longest tail of `text` that is a prefix of `secret` (a secret the cut split in two). */
function redactFragmentAtEnd(text: string, secret: string): string {
  for (let i = Math.max(0, text.length - secret.length + 1); i < text.length; i++) {
    if (secret.startsWith(text.slice(i))) return text.slice(0, i) + REDACTED;
  }
  return text;
}

/**
 * The text as the bytes it denotes: `%XX` is one byte (either case of hex), any other character its
 * UTF-8 bytes, `+` a space when `plusIsSpace` (form encoding); ASCII letters folded to lower case.
 * `from[j]`..`to[j]` is the span of the text that byte `j` came from. Linear in the text.
 */
function byteView(
  text: string,
  plusIsSpace: boolean,
): { bytes: Uint8Array; from: Int32Array; to: Int32Array } {
  const bytes = new Uint8Array(text.length * 3);
  const from = new Int32Array(text.length * 3);
  const to = new Int32Array(text.length * 3);
  let n = 0;
  const push = (b: number, start: number, end: number): void => {
    bytes[n] = b >= 0x41 && b <= 0x5a ? b + 0x20 : b;
    from[n] = start;
    to[n++] = end;
  };
  for (let i = 0; i < text.length;) {
    const c = text.charCodeAt(i);
    if (c === 0x25 && isHex(text.charCodeAt(i + 1)) && isHex(text.charCodeAt(i + 2))) {
      push(parseInt(text.slice(i + 1, i + 3), 16), i, i + 3);
      i += 3;
      continue;
    }
    const cp = text.codePointAt(i)!;
    const end = i + (cp > 0xffff ? 2 : 1);
    if (plusIsSpace && cp === 0x2b) push(0x20, i, end);
    else for (const b of utf8(cp)) push(b, i, end);
    i = end;
  }
  return { bytes: bytes.subarray(0, n), from, to };
}

/** The length of an incomplete percent escape ending the text (`%`, `%X`), else 0. */
function partialEscapeAtEnd(text: string): number {
  const n = text.length;
  if (n >= 1 && text.charCodeAt(n - 1) === 0x25) return 1;
  if (n >= 2 && text.charCodeAt(n - 2) === 0x25 && isHex(text.charCodeAt(n - 1))) return 2;
  return 0;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** The UTF-8 bytes of a code point (a lone surrogate as U+FFFD, as `encodeURIComponent` cannot). */
function utf8(cp: number): number[] {
  if (cp < 0x80) return [cp];
  if (cp < 0x800) return [0xc0 | (cp >> 6), 0x80 | (cp & 0x3f)];
  if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
  if (cp < 0x10000) return [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)];
  return [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)];
}

/**
 * Removes `secret` echoed in another representation: ASCII case folded either way, percent-encoded
 * (`encodeURIComponent`, lower- or upper-case hex, fully or partly), or form-encoded (`+` for a
 * space). Text and secret are compared as the bytes they denote (`byteView`), with Knuth-Morris-Pratt:
 * linear in text and secret, whatever either contains. When the text was cut, a tail of it that starts
 * the secret is removed too (the automaton's state at the end is exactly that tail's length).
 */
function redactEncodedForms(text: string, secret: string, cut: boolean): string {
  const pattern = byteView(secret, false).bytes;
  const m = pattern.length;
  if (m === 0) return text;
  const fail = new Int32Array(m);
  for (let i = 1, k = 0; i < m; i++) {
    while (k > 0 && pattern[i] !== pattern[k]) k = fail[k - 1];
    if (pattern[i] === pattern[k]) k++;
    fail[i] = k;
  }
  const spans: [number, number][] = [];
  for (const plusIsSpace of secret.includes(' ') ? [false, true] : [false]) {
    // A cut inside an escape (`…%` or `…%2`) leaves the bytes before it as the candidate tail.
    const partial = cut ? partialEscapeAtEnd(text) : 0;
    const { bytes, from, to } = byteView(partial ? text.slice(0, -partial) : text, plusIsSpace);
    let k = 0;
    for (let j = 0; j < bytes.length; j++) {
      while (k > 0 && bytes[j] !== pattern[k]) k = fail[k - 1];
      if (bytes[j] === pattern[k]) k++;
      if (k === m) {
        spans.push([from[j - m + 1], to[j]]);
        k = 0; // non-overlapping: the next match starts after this one
      }
    }
    if (cut && k > 0) spans.push([from[bytes.length - k], text.length]);
  }
  if (spans.length === 0) return text;
  spans.sort((a, b) => a[0] - b[0]);
  let out = '';
  let pos = 0;
  for (const [start, end] of spans) {
    if (end <= pos) continue;
    out += text.slice(pos, Math.max(pos, start)) + (start >= pos ? REDACTED : '');
    pos = end;
  }
  return out + text.slice(pos);
}
