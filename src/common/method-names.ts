/** Own and inherited method names of a prototype (not `constructor`, not `Object.prototype`'s). */
export function methodNames(proto: object): string[] {
  const names = new Set<string>();
  for (
    let p: object | null = proto;
    p && p !== Object.prototype;
    p = Object.getPrototypeOf(p) as object | null
  ) {
    for (const name of Object.getOwnPropertyNames(p)) if (name !== 'constructor') names.add(name);
  }
  return [...names];
}
