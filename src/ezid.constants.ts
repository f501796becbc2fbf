/** Name under which `EzidJwtStrategy` is registered with Passport. */
export const EZID_JWT_STRATEGY = 'ezid-jwt';
