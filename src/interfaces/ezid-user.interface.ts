/** A role the user holds in one tenant. `permissions` is never null (EZiD's `null` becomes `[]`). */
export interface EzidRole {
  readonly id: string;
  readonly name: string;
  readonly permissions: readonly string[];
}

/** One organization (tenant) the user belongs to, with the roles held there. */
export interface EzidTenant {
  readonly id: string;
  readonly name: string;
  /** EZiD's membership status, e.g. `"Verified"`. Only verified memberships grant anything. */
  readonly status: string;
  readonly roles: readonly EzidRole[];
}

/**
 * The authenticated user, built from an allow-list of token claims (raw claims are never spread)
 * or from the EZiD profile API when `profile.source` is `'api'`.
 */
export interface EzidUser {
  /** The token's `sub`. */
  readonly id: string;
  readonly email?: string;
  readonly firstName?: string;
  readonly lastName?: string;
  readonly tenants: readonly EzidTenant[];
  /** The verified token's claims, frozen. Read-only: never merged into the user object. */
  readonly claims: Readonly<Record<string, unknown>>;
}
