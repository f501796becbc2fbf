// profile.source 'api': EzidProfileCache.invalidate() is final. A fetch that started before it (held
// open at the emulator's organizations endpoint by a gate the test opens) never populates the cache,
// and requests after it fetch again, so a removed tenant is not served.
import { EzidProfileStore } from '../../src/authz/ezid-profile.source';
import { EMULATOR_IDS, EzidEmulator } from '../../src/testing';
import {
  type AuthzApp,
  PLATFORMS,
  bearer,
  matrixController,
  outcomeOf,
  startAuthzApp,
} from './authz-test-app';

const T2 = EMULATOR_IDS.tenant2;
const ORGS = 'users.getOrganizations';

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

describe.each(PLATFORMS)('profile cache invalidate() during a fetch on %s', (platform) => {
  let emu: EzidEmulator;
  let app: AuthzApp;
  let store: EzidProfileStore;
  const demo = EMULATOR_IDS.demoUser;
  const token = () => emu.mintAccessToken('demo@example.com', { claims: { tenants: undefined } });
  const member = async () => outcomeOf(await app.get(`/e/${T2}/member`, bearer(token())));
  /** Yields to the event loop until the emulator has received `n` organizations requests. */
  const received = async (n: number) => {
    for (let i = 0; i < 10_000 && emu.requestCount(ORGS) < n; i++) await new Promise(setImmediate);
    expect(emu.requestCount(ORGS)).toBe(n);
  };

  beforeEach(async () => {
    emu = await EzidEmulator.start({ clientId: 'cli_authz_test', clientSecret: 'authz-test-secret' });
    app = await startAuthzApp(platform, emu, [matrixController('e/:tenantId')], {
      profile: { source: 'api', cacheTtlSec: 600 },
    });
    store = app.app.get(EzidProfileStore);
  });
  afterEach(async () => {
    await app?.close();
    await emu?.stop();
  });

  it('a fetch that started before invalidate() does not populate the cache', async () => {
    const g = gate();
    emu.fault(ORGS, { holdResponse: g.promise, times: 1 });
    const before = member(); // the emulator answers with the membership of T2, held at the gate
    await received(1);
    emu.setMembership('demo@example.com', T2, null); // removed from T2...
    store.cache.invalidate(demo); // ...and the app is told
    g.open();
    expect(await before).toBe(200); // that request started before the change
    expect(await member()).toBe('403 tenant_forbidden');
    expect(emu.requestCount(ORGS)).toBe(2);
    expect(await member()).toBe('403 tenant_forbidden'); // now cached
    expect(emu.requestCount(ORGS)).toBe(2);
  });

  it('requests after invalidate() do not join the disowned fetch: they get a fresh one', async () => {
    const g = gate();
    emu.fault(ORGS, { holdResponse: g.promise, times: 1 });
    const before = member();
    await received(1);
    emu.setMembership('demo@example.com', T2, null);
    store.cache.invalidate(); // everyone
    expect(await member()).toBe('403 tenant_forbidden'); // answered while the old fetch is still held
    expect(emu.requestCount(ORGS)).toBe(2);
    g.open();
    expect(await before).toBe(200);
    expect(await member()).toBe('403 tenant_forbidden'); // the old answer did not overwrite the new one
    expect(emu.requestCount(ORGS)).toBe(2);
  });
});
