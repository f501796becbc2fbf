import type { CompiledRule, EzidMatchMode } from '../common/ezid-metadata';

export type { CompiledRule, EzidMatchMode } from '../common/ezid-metadata';

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

const RULE_OPTION_KEYS: ReadonlySet<string> = new Set(['match', 'prohibited', 'merge']);
const REQUIREMENT_KEYS: ReadonlySet<string> = new Set(['names', 'match', 'prohibited']);

function decoratorName(kind: RuleKind): string {
  return kind === 'roles' ? '@Roles()' : '@Permissions()';
}

/** A typo in a rule option (`prohibitted`, `merg`) would silently widen access: refuse any unknown key. */
function checkKeys(kind: RuleKind, what: string, value: object, known: ReadonlySet<string>): void {
  for (const key of Reflect.ownKeys(value)) {
    if (typeof key === 'string' && known.has(key)) continue;
    throw new TypeError(
      `nestjs-ezid: ${decoratorName(kind)} ${what} has an unknown key ${JSON.stringify(String(key).slice(0, 64))}; ` +
        `the known keys are ${[...known].join(', ')}`,
    );
  }
}

/** Validates and freezes a rule. Throws a `TypeError` (at decoration / call time) on a malformed rule. */
export function compileRule(
  kind: RuleKind,
  names: readonly unknown[],
  options: EzidRuleOptions | undefined,
): CompiledRule {
  if (options !== undefined) checkKeys(kind, 'options', options, RULE_OPTION_KEYS);
  if (options?.merge !== undefined && typeof options.merge !== 'boolean') {
    throw new TypeError(`nestjs-ezid: ${decoratorName(kind)} merge must be a boolean`);
  }
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
  checkKeys(kind, 'requirement', r, REQUIREMENT_KEYS);
  return compileRule(kind, r.names, { match: r.match, prohibited: r.prohibited });
}

/**
 * Cyrillic and Greek letters that render like Latin ones, mapped to those (a small, documented subset
 * of Unicode's confusables, applied before case folding so that e.g. Greek `Ν` maps to `N` while `ν`
 * maps to `v`). Deny side only: it can merge distinct names, never separate equal ones.
 */
const LATIN_LOOKALIKES: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(
    (
      [
        // Cyrillic capitals: ABEKMHOPCTYXSIJYHIQW
        [
          '\u0410\u0412\u0415\u041A\u041C\u041D\u041E\u0420\u0421\u0422\u0423\u0425\u0405\u0406\u0408\u04AE\u04BA\u04C0\u051A\u051C',
          'ABEKMHOPCTYXSIJYHIQW',
        ],
        // Cyrillic small letters: aeopcyxsijyhlqw
        [
          '\u0430\u0435\u043E\u0440\u0441\u0443\u0445\u0455\u0456\u0458\u04AF\u04BB\u04CF\u051B\u051D',
          'aeopcyxsijyhlqw',
        ],
        // Greek capitals: ABEZHIKMNOPTYX
        [
          '\u0391\u0392\u0395\u0396\u0397\u0399\u039A\u039C\u039D\u039F\u03A1\u03A4\u03A5\u03A7',
          'ABEZHIKMNOPTYX',
        ],
        // Greek small letters: aikvopuxcj
        ['\u03B1\u03B9\u03BA\u03BD\u03BF\u03C1\u03C5\u03C7\u03F2\u03F3', 'aikvopuxcj'],
      ] as const
    ).flatMap(([from, to]) => [...from].map((c, i) => [c, to[i]])),
  ),
);
const LATIN_LOOKALIKE = new RegExp(`[${Object.keys(LATIN_LOOKALIKES).join('')}]`, 'gu');
/** Invisible characters: default-ignorable code points, format characters (`Cf`). */
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Cf}]/gu;
/** Space-like runs: whitespace, separators, control characters and the braille blank (U+2800). */
const SPACE_LIKE = /[\s\p{Z}\p{Cc}\u2800]+/gu;

/**
 * The key under which a name is compared with a `prohibited` list: NFKD with every combining mark
 * (`\p{M}`) removed, invisible characters (default-ignorable code points, format characters)
 * removed, Cyrillic/Greek look-alikes of Latin letters mapped to Latin (`LATIN_LOOKALIKES`),
 * space-like runs (whitespace, separators, controls, U+2800 braille blank) collapsed to one space
 * and trimmed, case folded. Only ever used to deny: `Suspended `, `suspended`, `Ｓｕｓｐｅｎｄｅｄ`,
 * `Suspen\u200Bded`, `S\u0336uspended`, `Suspended\u2800` and Cyrillic `Ѕuѕреndеd` all hit
 * `prohibited: ['Suspended']`. Every pattern is a single character class: linear.
 */
export function prohibitedKey(name: string): string {
  const key = name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(INVISIBLE, '')
    .replace(LATIN_LOOKALIKE, (c) => LATIN_LOOKALIKES[c] ?? c)
    .replace(SPACE_LIKE, ' ')
    .trim()
    .toUpperCase()
    .toLowerCase();
  // Case folding can produce a small look-alike the first pass did not see (a capital not listed).
  return key.replace(LATIN_LOOKALIKE, (c) => LATIN_LOOKALIKES[c] ?? c);
}

/** The folded keys of a set of held names (see `prohibitedKey`). */
export function prohibitedKeys(names: Iterable<string>): ReadonlySet<string> {
  const out = new Set<string>();
  for (const n of names) out.add(prohibitedKey(n));
  return out;
}

const ruleProhibitedKeys = new WeakMap<CompiledRule, readonly string[]>();

function prohibitedKeysOf(rule: CompiledRule): readonly string[] {
  let keys = ruleProhibitedKeys.get(rule);
  if (!keys) ruleProhibitedKeys.set(rule, (keys = rule.prohibited.map(prohibitedKey)));
  return keys;
}

/**
 * Evaluates one rule against the names held. Deny by default: a rule with no names never passes
 * (the `[].every(...) === true` trap), and any prohibited name held denies.
 *
 * The two sides of a rule are compared differently, so that a look-alike name can only ever deny:
 * - granting names are compared exactly (same code points): no case folding, no normalisation, no
 *   trimming (`Admin ` or `admin` never satisfies `Admin`);
 * - `prohibited` names are compared by `prohibitedKey` (NFKC, invisible characters removed, trimmed,
 *   case folded) on both sides, so `Suspended ` or `suspended` held still hits `prohibited: ['Suspended']`.
 *
 * `heldKeys` is `prohibitedKeys(held)`, precomputed by the caller (computed here when omitted).
 */
export function rulePasses(
  rule: CompiledRule,
  held: ReadonlySet<string>,
  heldKeys?: ReadonlySet<string>,
): boolean {
  if (rule.prohibited.length > 0) {
    const keys = heldKeys ?? prohibitedKeys(held);
    for (const p of prohibitedKeysOf(rule)) if (keys.has(p)) return false;
  }
  const names = rule.names;
  if (names.length === 0) return false;
  if (rule.match === 'all') {
    for (const n of names) if (!held.has(n)) return false;
    return true;
  }
  for (const n of names) if (held.has(n)) return true;
  return false;
}
