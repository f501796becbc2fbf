// Found by the second attack pass on the shared store (issue 15); kept as regression tests.
// Attack pass 15b: one slow Redis command at the moment a rotation's upstream call returns (the
// `done:` transition times out, Redis answers again right after). Real Nest apps (Express), the
// emulator and a real redis-server (SIGSTOP/SIGCONT) on loopback; no sleeps.
import { refreshTokenRevocationId } from '../../src/auth/ezid-revocation-list';
import { EzidStore } from '../../src/store';
import {
  type CallbackTestApp,
  createGate,
  eventCount,
  linkParam,
  until,
} from '../callback/callback-test-app';
import { describeWithRedis } from '../support/redis-server';
import { useRedisCallbackWorld } from './redis-callback-world';

interface Session {
  accessToken: string;
  refreshToken: string;
}

/** Polls an async condition (no fixed delay: one event-loop turn between checks). */
async function untilAsync(cond: () => Promise<boolean>, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describeWithRedis('attack 15b: a store hiccup during the done: transition', () => {
  jest.setTimeout(60_000);
  const world = useRedisCallbackWorld();
  // http.timeoutMs 1000: the refresh lock lives 6 s (keeps the test short).
  const start = () => world.start({ http: { timeoutMs: 1000 } });

  async function signIn(t: CallbackTestApp, email = 'alice@example.com'): Promise<Session> {
    await t.request('POST', '/magic-link', { body: { email } });
    const code = linkParam(world.emu.outbox.last(email)!.link, 'code');
    const r = await t.request('POST', '/callback', { body: { code } });
    expect(r.status).toBe(200);
    return r.json as unknown as Session;
  }

  /** GET commands Redis has executed (INFO commandstats). */
  async function getCalls(): Promise<number> {
    const m = /cmdstat_get:calls=(\d+)/.exec(await world.raw.info('commandstats'));
    return m ? Number(m[1]) : 0;
  }

  const refresh = (t: CallbackTestApp, refreshToken: string, ua: string) =>
    t.request('POST', '/refresh', { body: { refreshToken }, headers: { 'user-agent': ua } });

  it('the done: transition times out once: the holder replays its writes when Redis answers again, the tab that joined on another instance gets the session, and a later replay there is reuse', async () => {
    const a = await start();
    const b = await start();
    const s0 = await signIn(a);
    const lockKey = `ezid:refresh:lock:${refreshTokenRevocationId(s0.refreshToken)}`;
    const upstreamGate = createGate();
    world.emu.fault('legacy.emailLinkRefresh', { gate: upstreamGate.promise, times: 1 });
    const refreshesBefore = world.emu.requestCount('legacy.emailLinkRefresh');

    // Tab 1 on A: upstream call in flight. Tab 2 (same browser) on B joins while it is in flight.
    const tab1 = refresh(a, s0.refreshToken, 'victim-browser');
    await until(() => world.emu.requestCount('legacy.emailLinkRefresh') > refreshesBefore, 10_000);
    const gets = await getCalls();
    const joined = eventCount(b.logger, 'refresh_joined');
    const tab2 = refresh(b, s0.refreshToken, 'victim-browser');
    await until(() => eventCount(b.logger, 'refresh_joined') > joined, 10_000);
    // B is parked in awaitResult: its lock attempt read the holder's value (a GET inside the
    // set-if-absent script, counted by commandstats too), then it read the result slot and the lock.
    await untilAsync(async () => (await getCalls()) >= gets + 3, 10_000);

    // Redis stalls exactly when EZiD answers: A's `done:` transition outlives commandTimeoutMs.
    world.redis.pause();
    upstreamGate.open();
    const first = await tab1;
    expect(first.status).toBe(200);
    // A's `done:` transition timed out: it went on per process (store suspended for 1 s).
    expect(a.app.get(EzidStore).health().status).toBe('down');
    world.redis.resume(); // ~0.5 s hiccup; Redis then executes what it had queued

    // A replays its failed writes (rotation record, result, release) once the store answers again;
    // the release wakes tab 2, which reads the result.
    const second = await tab2;
    const lockAfter = await world.raw.get(lockKey);
    // A thief replays s0 on B once everything is healthy again.
    const thief = await refresh(b, s0.refreshToken, 'thief-tool');
    const outcome = {
      upstreamRefreshes: world.emu.requestCount('legacy.emailLinkRefresh') - refreshesBefore,
      tab2: { status: second.status, code: second.json?.code },
      tab2GotTab1Session:
        (second.json as Partial<Session> | undefined)?.accessToken ===
        (first.json as unknown as Session).accessToken,
      thief: { status: thief.status, code: thief.json?.code },
      lockAfterHiccup: lockAfter?.startsWith('done:') ? 'done:<id> (left until its TTL)' : lockAfter,
    };
    // docs/scaling.md: requests that found the lock while the call was in flight get the same session;
    // one EZiD call; a replay that reaches another instance is still reuse.
    expect(outcome).toEqual({
      upstreamRefreshes: 1,
      tab2: { status: 200, code: undefined },
      tab2GotTab1Session: true,
      thief: { status: 401, code: 'refresh_token_reused' },
      lockAfterHiccup: null,
    });
  });
});
