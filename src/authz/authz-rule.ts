/** How the names of a `@Roles()` / `@Permissions()` rule are matched against what the user holds. */
export type EzidMatchMode = 'any' | 'all';

/**
 * Options of a `@Roles()` / `@Permissions()` rule, passed as the last argument.
 *
 * @example
 * ```ts
 * @Roles('Admin', 'Owner', { match: 'all', prohibited: ['Suspended'] })
 * ```
 */
export interface EzidRuleOptions {
  /** `'any'`: one of the names is enough (default for roles). `'all'`: every name is needed (default for permissions). */
  match?: EzidMatchMode;
  /** Names that must NOT be held in the tenant: holding any of them denies, whatever else is held. */
  prohibited?: readonly string[];
  /**
   * On a handler: enforce the class-level rule of the same kind as well (both must pass).
   * Without it the handler's rule replaces the class's. Ignored on a class.
   */
  merge?: boolean;
}

/** A role or permission rule as `EzidAuthorizer` takes it: a list of names (default match) or a full rule. */
export type EzidNameRequirement =
  | readonly string[]
  | {
      readonly names: readonly string[];
      readonly match?: EzidMatchMode;
      readonly prohibited?: readonly string[];
    };

/** What `EzidAuthorizer.can()` checks in one tenant, beyond verified membership. */
export interface EzidAuthzRequirement {
  /** Role names (by `role_name`); a bare list uses match `'any'`. */
  roles?: EzidNameRequirement;
  /** Permission names (the union over the roles held in the tenant); a bare list uses match `'all'`. */
  permissions?: EzidNameRequirement;
}

/** A rule after validation: frozen, with its defaults applied. Internal. */
export interface CompiledRule {
  readonly names: readonly string[];
  readonly match: EzidMatchMode;
  readonly prohibited: readonly string[];
  readonly merge: boolean;
}

export type RuleKind = 'roles' | 'permissions';

export const DEFAULT_MATCH: Readonly<Record<RuleKind, EzidMatchMode>> = Object.freeze({
  roles: 'any',
  permissions: 'all',
});

function checkNames(kind: RuleKind, what: string, names: readonly unknown[]): string[] {
  return names.map((n, i) => {
    if (typeof n !== 'string' || n.length === 0) {
      throw new TypeError(
        `nestjs-ezid: @${kind === 'roles' ? 'Roles' : 'Permissions'}() ${what}[${i}] must be a non-empty string`,
      );
    }
    return n;
  });
}

/** Validates and freezes a rule. Throws a `TypeError` (at decoration / call time) on a malformed rule. */
export function compileRule(
  kind: RuleKind,
  names: readonly unknown[],
  options: EzidRuleOptions | undefined,
): CompiledRule {
  const match = options?.match ?? DEFAULT_MATCH[kind];
  if (match !== 'any' && match !== 'all') {
    throw new TypeError(`nestjs-ezid: match must be 'any' or 'all'`);
  }
  const prohibited = options?.prohibited ?? [];
  if (!Array.isArray(prohibited)) throw new TypeError('nestjs-ezid: prohibited must be an array of names');
  return Object.freeze({
    names: Object.freeze(checkNames(kind, 'name', names)),
    match,
    prohibited: Object.freeze(checkNames(kind, 'prohibited', prohibited)),
    merge: options?.merge === true,
  });
}

/** Splits `@Roles('a', 'b', { match })` into names and options. */
export function compileDecoratorArgs(kind: RuleKind, args: readonly unknown[]): CompiledRule {
  const last = args[args.length - 1];
  const hasOptions = typeof last === 'object' && last !== null && !Array.isArray(last);
  const names = hasOptions ? args.slice(0, -1) : args;
  return compileRule(kind, names, hasOptions ? (last as EzidRuleOptions) : undefined);
}

/** Compiles the public `EzidNameRequirement` shape. */
export function compileRequirement(kind: RuleKind, req: EzidNameRequirement): CompiledRule {
  if (Array.isArray(req)) return compileRule(kind, req, undefined);
  const r = req as Exclude<EzidNameRequirement, readonly string[]>;
  if (typeof r !== 'object' || r === null || !Array.isArray(r.names)) {
    throw new TypeError(`nestjs-ezid: ${kind} must be an array of names or { names, match?, prohibited? }`);
  }
  return compileRule(kind, r.names, { match: r.match, prohibited: r.prohibited });
}

/**
 * Evaluates one rule against the names held. Deny by default: a rule with no names never passes
 * (the `[].every(...) === true` trap), and any prohibited name held denies.
 * Names are compared exactly (same code points): no case folding, no Unicode normalisation.
 */
export function rulePasses(rule: CompiledRule, held: ReadonlySet<string>): boolean {
  for (const p of rule.prohibited) if (held.has(p)) return false;
  const names = rule.names;
  if (names.length === 0) return false;
  if (rule.match === 'all') {
    for (const n of names) if (!held.has(n)) return false;
    return true;
  }
  for (const n of names) if (held.has(n)) return true;
  return false;
}
