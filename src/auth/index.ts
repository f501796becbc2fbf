// Public exports of the auth area.
export { EzidAuthGuard } from './ezid-auth.guard';
export { EzidJwtStrategy } from './ezid-jwt.strategy';
export { EzidTokenVerifier } from './ezid-token-verifier';
export type { EzidVerifiedToken } from './ezid-token-verifier';
export {
  EzidRevocationList,
  EzidInMemoryRevocationList,
  EzidRevocationListFullError,
  EZID_REVOCATION_LIST_MAX,
  accessTokenRevocationId,
  refreshTokenRevocationId,
} from './ezid-revocation-list';
export { EzidTokenError, EzidKeysUnavailableError } from './ezid-token.errors';
export type { EzidTokenErrorCode } from './ezid-token.errors';
export { createEzidUser, tenantsFromClaim } from './ezid-user.factory';
export { getEzidUser } from '../common/ezid-user-context';
export { EzidGraphQLError } from '../common/ezid-graphql.error';
export type { EzidGraphQLErrorExtensions } from '../common/ezid-graphql.error';
export { EZID_MONOTONIC_CLOCK, SYSTEM_MONOTONIC_CLOCK } from '../common/monotonic-clock';
export type { EzidMonotonicClock } from '../common/monotonic-clock';
