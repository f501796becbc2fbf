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
 * the fragment left at the end), then anything shaped like a credential it may echo from elsewhere
 * (JWTs, long opaque tokens and UUIDs, 4-8 digit codes). Every pattern is linear in its input.
 */
export function redactProviderText(text: string, secrets: readonly string[], max: number): string {
  const cut = text.length > max;
  let out = cut ? text.slice(0, max) : text;
  for (const s of secrets) {
    out = out.split(s).join(REDACTED);
    if (cut) out = redactFragmentAtEnd(out, s);
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
