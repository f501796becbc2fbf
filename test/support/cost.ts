/**
 * What a synchronous call costs this thread, in ms, for linear-time assertions on hostile inputs: the
 * smaller of its wall time and the process's CPU time over the call. Process CPU also counts V8's GC
 * helper threads (a large heap left by earlier suites in the same jest worker can add hundreds of ms),
 * and wall time also counts being preempted on a loaded machine; a super-linear blow-up on a 1 MiB input
 * inflates both by orders of magnitude, so the minimum keeps the assertion meaningful and stable.
 */
export function callCostMs(fn: () => void): number {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  fn();
  const wall = performance.now() - t0;
  const { user, system } = process.cpuUsage(cpu);
  return Math.min(wall, (user + system) / 1000);
}
