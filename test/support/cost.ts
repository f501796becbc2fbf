/**
 * What a synchronous call costs this thread, in ms: the smaller of its wall time and the process's CPU
 * time over the call. Process CPU also counts V8's GC helper threads (a large heap left by earlier
 * suites in the same jest worker can add hundreds of ms), and wall time also counts being preempted on a
 * loaded machine.
 */
function onceCostMs(fn: () => void): number {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  fn();
  const wall = performance.now() - t0;
  const { user, system } = process.cpuUsage(cpu);
  return Math.min(wall, (user + system) / 1000);
}

/**
 * The cost of `fn` for linear-time assertions on hostile inputs, against `budgetMs`: the first of at most
 * `tries` calls that fits the budget, else the lowest of them. A super-linear blow-up on a 1 MiB input
 * costs orders of magnitude over the budget on every call; a GC pause or preemption landing on one call
 * does not repeat on the next, so a call a little over budget is tried again. A call over ten times the
 * budget is a verdict at once (a failing test does not run its blow-up three times). `fn` must be
 * repeatable.
 */
export function callCostMs(fn: () => void, budgetMs: number, tries = 3): number {
  let lowest = onceCostMs(fn);
  for (let i = 1; i < tries && lowest >= budgetMs && lowest < 10 * budgetMs; i++) {
    lowest = Math.min(lowest, onceCostMs(fn));
  }
  return lowest;
}
