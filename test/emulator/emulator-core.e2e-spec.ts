import { createPublicKey, verify } from 'node:crypto';
import { EMULATOR_IDS, EzidEmulator } from '../../src/testing';

function decode(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [h, p] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(p, 'base64url').toString()),
  };
}

async function jwks(emulator: EzidEmulator): Promise<{ keys: Record<string, unknown>[] }> {
  const res = await fetch(emulator.jwksUri);
  expect(res.status).toBe(200);
  return (await res.json()) as { keys: Record<string, unknown>[] };
}

function verifiesWith(token: string, jwk: Record<string, unknown>): boolean {
  const [h, p, s] = token.split('.');
  const key = createPublicKey({ key: jwk as never, format: 'jwk' });
  return verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url'));
}

describe('EzidEmulator core', () => {
  let emulator: EzidEmulator;

  beforeAll(async () => {
    emulator = await EzidEmulator.start({ clientId: 'cli_test', clientSecret: 's3cret', audience: 'aud-1' });
  });
  afterAll(() => emulator.stop());
  afterEach(() => {
    emulator.clearFaults();
    emulator.resetCounters();
  });

  it('listens on 127.0.0.1 and exposes url, jwksUri, issuer', () => {
    expect(emulator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(emulator.jwksUri).toBe(`${emulator.url}/api/.well-known/jwks.json`);
    expect(emulator.issuer).toBe('https://ezid.emulator');
    expect(emulator.publicKeyPem).toContain('-----BEGIN PUBLIC KEY-----');
  });

  it('mints RS256 access tokens with the documented claims that verify against the JWKS', async () => {
    const token = emulator.mintAccessToken();
    const { header, payload } = decode(token);
    expect(header).toEqual({ alg: 'RS256', typ: 'at+jwt', kid: emulator.currentKid });
    expect(payload).toMatchObject({
      iss: emulator.issuer,
      sub: EMULATOR_IDS.demoUser,
      aud: 'aud-1',
      email: 'demo@example.com',
      given_name: 'Demo',
      family_name: 'User',
    });
    expect((payload.exp as number) - (payload.iat as number)).toBe(600);
    expect(payload.tenants).toEqual([
      {
        tenant_id: EMULATOR_IDS.tenant1,
        tenant_name: 'org1',
        roles: [
          {
            role_id: EMULATOR_IDS.adminRole,
            role_name: 'Admin',
            permissions: ['Team View', 'Team Manage', 'Billing Manage'],
          },
        ],
        status: 'Verified',
      },
      {
        tenant_id: EMULATOR_IDS.tenant2,
        tenant_name: 'org2',
        roles: [{ role_id: EMULATOR_IDS.memberRole, role_name: 'Member', permissions: ['Team View'] }],
        status: 'Verified',
      },
    ]);
    const { keys } = await jwks(emulator);
    const jwk = keys.find((k) => k.kid === emulator.currentKid)!;
    expect(jwk).toMatchObject({ kty: 'RSA', use: 'sig', alg: 'RS256', e: 'AQAB' });
    expect(Buffer.from(jwk.n as string, 'base64url').length).toBe(256);
    expect(verifiesWith(token, jwk)).toBe(true);
  });

  it('mints deliberately bad tokens', async () => {
    const { keys } = await jwks(emulator);
    const jwk = keys.find((k) => k.kid === emulator.currentKid)!;
    expect(verifiesWith(emulator.mintAccessToken(undefined, { signWith: 'wrong-key' }), jwk)).toBe(false);
    const expired = decode(emulator.mintAccessToken(undefined, { expiresInSec: -60 })).payload;
    expect(expired.exp as number).toBeLessThan(Date.now() / 1000);
    const other = decode(
      emulator.mintAccessToken('alice@example.com', { claims: { iss: 'https://evil', aud: undefined } }),
    );
    expect(other.payload.iss).toBe('https://evil');
    expect(other.payload).not.toHaveProperty('aud');
    expect(other.payload.sub).toBe(EMULATOR_IDS.alice);
    const none = emulator.mintAccessToken(undefined, { algorithm: 'none' });
    expect(decode(none).header.alg).toBe('none');
    expect(none.endsWith('.')).toBe(true);
    const hs = emulator.mintAccessToken(undefined, { algorithm: 'HS256', hmacSecret: 'x' });
    expect(decode(hs).header.alg).toBe('HS256');
    const ps = emulator.mintAccessToken(undefined, { algorithm: 'PS256', header: { typ: undefined } });
    expect(decode(ps).header).toEqual({ alg: 'PS256', kid: emulator.currentKid });
    expect(decode(emulator.mintIdToken()).header.typ).toBe('JWT');
  });

  it('rotates, adds, removes keys and can serve an arbitrary JWKS document', async () => {
    const oldKid = emulator.currentKid;
    const newKid = emulator.rotateKeys();
    expect(newKid).not.toBe(oldKid);
    expect(decode(emulator.mintAccessToken()).header.kid).toBe(newKid);
    let kids = (await jwks(emulator)).keys.map((k) => k.kid);
    expect(kids).toEqual(expect.arrayContaining([oldKid, newKid]));
    const weak = emulator.addKey({ bits: 1024 });
    kids = (await jwks(emulator)).keys.map((k) => k.kid);
    expect(kids).toContain(weak.kid);
    expect(emulator.currentKid).toBe(newKid);
    emulator.removeKey(weak.kid);
    emulator.removeKey(oldKid);
    expect((await jwks(emulator)).keys.map((k) => k.kid)).toEqual([newKid]);
    const third = emulator.rotateKeys({ keepOld: false });
    expect((await jwks(emulator)).keys.map((k) => k.kid)).toEqual([third]);
    emulator.setJwksDocument({ keys: 'nope' });
    expect(await jwks(emulator)).toEqual({ keys: 'nope' });
    emulator.setJwksDocument(null);
    expect((await jwks(emulator)).keys).toHaveLength(1);
    expect(emulator.requestCount('jwks')).toBe(6);
  });

  it('injects faults on the JWKS and counts requests', async () => {
    emulator.fault('jwks', { status: 503, times: 1 });
    expect((await fetch(emulator.jwksUri)).status).toBe(503);
    expect((await fetch(emulator.jwksUri)).status).toBe(200);
    emulator.fault('jwks', { malformed: true });
    await expect((await fetch(emulator.jwksUri)).json()).rejects.toThrow();
    emulator.fault('jwks', { redirect: 'http://127.0.0.1:1/x' });
    const r = await fetch(emulator.jwksUri, { redirect: 'manual' });
    expect(r.status).toBe(302);
    expect(r.headers.get('location')).toBe('http://127.0.0.1:1/x');
    emulator.fault('jwks', { latencyMs: 150 });
    const t0 = Date.now();
    await fetch(emulator.jwksUri);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(emulator.requestCount('jwks')).toBe(5);
    expect(() => emulator.fault('nope', { hang: true })).toThrow(/unknown endpoint/);
  });

  it('dribbles a body slowly', async () => {
    emulator.fault('jwks', { dribble: { intervalMs: 5, bytes: 200 } });
    const t0 = Date.now();
    const body = (await (await fetch(emulator.jwksUri)).json()) as { keys: unknown[] };
    expect(body.keys.length).toBeGreaterThan(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(5);
  });

  it('closes hung and dribbling connections on stop()', async () => {
    const other = await EzidEmulator.start({ clientId: 'c', clientSecret: 's' });
    other.fault('jwks', { hang: true });
    const hung = fetch(other.jwksUri).then(
      () => 'resolved',
      () => 'failed',
    );
    other.fault('magicLink.status', { dribble: { intervalMs: 1000 } });
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    await other.stop();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(await hung).toBe('failed');
  });

  it('seeds data and sets memberships', () => {
    emulator.setMembership('alice@example.com', 'org2', ['Admin']);
    expect(decode(emulator.mintAccessToken('alice@example.com')).payload.tenants).toHaveLength(2);
    emulator.setMembership('alice@example.com', 'org2', null);
    expect(decode(emulator.mintAccessToken('alice@example.com')).payload.tenants).toHaveLength(1);
    emulator.seed({
      permissions: [{ name: 'P' }],
      roles: [{ name: 'R', permissions: null }],
      tenants: [{ id: 'aaaaaaaaaaaaaaaaaaaaaaaa', name: 't' }],
      users: [{ email: 'demo@example.com', memberships: [{ tenant: 't', roles: ['R'] }] }],
    });
    const tenants = decode(emulator.mintAccessToken()).payload.tenants as {
      roles: { permissions: unknown }[];
    }[];
    expect(tenants[0].roles[0].permissions).toBeNull();
    expect(() => emulator.mintAccessToken('alice@example.com')).toThrow(/unknown user/);
  });
});
