/** Injection token of the `EzidKeySource` (JWKS or static PEM). Internal. */
export const EZID_KEY_SOURCE = Symbol.for('nestjs-ezid:key-source');

/** The `realm` of every `WWW-Authenticate` challenge this package sends. */
export const EZID_REALM = 'api';
