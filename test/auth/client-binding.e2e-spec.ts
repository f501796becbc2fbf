/**
 * Cross-client token acceptance (security checklist H2): a token minted by the same EZiD issuer for
 * another client must not open this API. `azp` / `client_id`, when present, must name an authorized
 * party (`token.authorizedParty`, default `clientId`); with `token.audience` unset any `aud` is
 * refused and a token must carry `azp` or `client_id`; with `audience` set, RFC 7519 §4.1.3.
 * Real Nest apps (Express and Fastify), tokens signed by the emulator's published key.
 */
import type { EzidTokenOptions } from '../../src';
import { resolveEzidOptions } from '../../src/ezid-options.validation';
import { EzidEmulator } from '../../src/testing';
import { PLATFORMS, type TestApp, bearer, startApp } from './auth-test-app';

const CLIENT = 'cli_auth_test';
const OTHER = 'cli_other_app';
const API = 'api://ezid-test';

const payloadOf = (token: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));

describe('the emulator mints realistic EZiD access tokens', () => {
  it('azp = the client id, no aud unless an audience is configured, typ at+jwt', async () => {
    const emu = await EzidEmulator.start({ clientId: CLIENT, clientSecret: 's' });
    const withAud = await EzidEmulator.start({ clientId: CLIENT, clientSecret: 's', audience: API });
    try {
      const p = payloadOf(emu.mintAccessToken());
      expect(p.azp).toBe(CLIENT);
      expect(p).not.toHaveProperty('aud');
      expect(payloadOf(withAud.mintAccessToken())).toMatchObject({ azp: CLIENT, aud: API });
    } finally {
      await emu.stop();
      await withAud.stop();
    }
  });
});

describe('token.authorizedParty / requireAuthorizedParty options', () => {
  const resolve = (token: Record<string, unknown>) =>
    resolveEzidOptions({
      clientId: CLIENT,
      token: { jwksUri: 'https://idp.example/jwks', issuer: 'https://iss', ...token },
    } as never).token;

  it('defaults to [clientId] and true; a string or a list is accepted', () => {
    expect(resolve({})).toMatchObject({ authorizedParty: [CLIENT], requireAuthorizedParty: true });
    expect(resolve({ authorizedParty: 'cli_a' }).authorizedParty).toEqual(['cli_a']);
    expect(resolve({ authorizedParty: ['cli_a', 'cli_b'], requireAuthorizedParty: false })).toMatchObject({
      authorizedParty: ['cli_a', 'cli_b'],
      requireAuthorizedParty: false,
    });
  });

  it.each([[42], [[]], [['']], [''], [[1]]])('authorizedParty %j is refused at boot', (bad) => {
    expect(() => resolve({ authorizedParty: bad })).toThrow(/token\.authorizedParty/);
  });

  it('requireAuthorizedParty must be a boolean', () => {
    expect(() => resolve({ requireAuthorizedParty: 'yes' })).toThrow(/token\.requireAuthorizedParty/);
  });
});

describe.each(PLATFORMS)('client binding (azp / client_id / aud) on %s', (platform) => {
  let emu: EzidEmulator;
  const apps: Record<string, TestApp> = {};

  /** An emulator access token with these claims changed (`undefined` removes a claim). */
  const mint = (claims: Record<string, unknown> = {}): string => {
    const t = emu.mintAccessToken(undefined, { claims });
    const p = payloadOf(t);
    for (const [k, v] of Object.entries(claims)) if (v === undefined) expect(p).not.toHaveProperty(k);
    return t;
  };

  beforeAll(async () => {
    emu = await EzidEmulator.start({ clientId: CLIENT, clientSecret: 's' });
    const configs: Record<string, Partial<EzidTokenOptions>> = {
      default: {},
      list: { authorizedParty: ['cli_web', 'cli_mobile'] },
      audience: { audience: API },
      optOut: { requireAuthorizedParty: false },
    };
    for (const [name, token] of Object.entries(configs)) {
      apps[name] = await startApp(platform, emu, { audience: undefined, ...token });
    }
  });
  afterAll(async () => {
    for (const app of Object.values(apps)) await app.close();
    await emu?.stop();
  });

  async function expectStatus(app: string, token: string, status: number, path = '/protected') {
    const res = await apps[app].get(path, bearer(token));
    const text = await res.text();
    expect({ app, status: res.status }).toEqual({ app, status });
    if (status === 401) {
      expect(JSON.parse(text)).toEqual({
        statusCode: 401,
        error: 'Unauthorized',
        code: 'token_invalid',
        message: 'The access token is invalid',
      });
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="api", error="invalid_token"/);
      // No expected value leaks: neither this client, nor the authorized parties, nor the audience.
      for (const v of [CLIENT, OTHER, 'cli_web', 'cli_mobile', API, 'azp', 'client_id', 'aud']) {
        expect(text).not.toContain(v);
        expect(res.headers.get('www-authenticate')).not.toContain(v);
      }
    }
  }

  describe('default (audience unset, authorizedParty = clientId)', () => {
    it("the emulator's token (azp = clientId, no aud) passes", () => expectStatus('default', mint(), 200));
    it('client_id = clientId instead of azp passes', () =>
      expectStatus('default', mint({ azp: undefined, client_id: CLIENT }), 200));
    it('a foreign azp is 401', () => expectStatus('default', mint({ azp: OTHER }), 401));
    it('a foreign client_id is 401 (with and without our azp)', async () => {
      await expectStatus('default', mint({ azp: undefined, client_id: OTHER }), 401);
      await expectStatus('default', mint({ client_id: OTHER }), 401);
    });
    it('our client_id does not excuse a foreign azp', () =>
      expectStatus('default', mint({ azp: OTHER, client_id: CLIENT }), 401));
    it('a foreign aud is 401, even next to our azp', async () => {
      await expectStatus('default', mint({ aud: OTHER }), 401);
      await expectStatus('default', mint({ aud: 'api://another-api' }), 401);
    });
    it('an aud naming this client (the ID-token shape) is 401', () =>
      expectStatus('default', mint({ aud: CLIENT }), 401));
    it('an array aud is 401, whatever it contains', async () => {
      await expectStatus('default', mint({ aud: [OTHER] }), 401);
      await expectStatus('default', mint({ aud: [CLIENT, OTHER] }), 401);
      await expectStatus('default', mint({ aud: [CLIENT] }), 401);
      await expectStatus('default', mint({ aud: [] }), 401);
    });
    it('none of aud / azp / client_id: 401 (unbound token)', () =>
      expectStatus('default', mint({ azp: undefined }), 401));
    it.each([
      ['azp a number', { azp: 42 }],
      ['azp an array holding our id', { azp: [CLIENT] }],
      ['azp empty', { azp: '' }],
      ['azp null', { azp: null }],
      ['azp an object', { azp: { id: CLIENT } }],
      ['client_id a number', { azp: undefined, client_id: 7 }],
      ['client_id an array', { client_id: [CLIENT] }],
      ['client_id empty', { client_id: '' }],
    ])('%s: 401', (_n, claims) => expectStatus('default', mint(claims), 401));
    it('azp comparison is exact (case, whitespace)', async () => {
      await expectStatus('default', mint({ azp: CLIENT.toUpperCase() }), 401);
      await expectStatus('default', mint({ azp: `${CLIENT} ` }), 401);
    });
    // Passport strategies are process-global by name: the last app started here registered 'ezid-jwt',
    // so only cases every configuration of this suite decides alike are asserted through it.
    it('the Passport strategy (AuthGuard("ezid-jwt")) applies the same rule', async () => {
      expect((await apps.default.get('/strategy', bearer(mint()))).status).toBe(200);
      expect((await apps.default.get('/strategy', bearer(mint({ azp: OTHER })))).status).toBe(401);
    });
  });

  describe('authorizedParty as a list', () => {
    it('azp or client_id naming any listed client passes', async () => {
      await expectStatus('list', mint({ azp: 'cli_web' }), 200);
      await expectStatus('list', mint({ azp: 'cli_mobile' }), 200);
      await expectStatus('list', mint({ azp: undefined, client_id: 'cli_mobile' }), 200);
    });
    it('a client outside the list is 401 (clientId is not implied once a list is given)', async () => {
      await expectStatus('list', mint({ azp: OTHER }), 401);
      await expectStatus('list', mint(), 401);
    });
    it('an aud naming a listed client is still 401 without an audience configured', () =>
      expectStatus('list', mint({ azp: 'cli_web', aud: 'cli_mobile' }), 401));
  });

  describe('token.audience set (RFC 7519 §4.1.3)', () => {
    it('a matching aud passes, with or without azp', async () => {
      await expectStatus('audience', mint({ aud: API }), 200);
      await expectStatus('audience', mint({ aud: API, azp: undefined }), 200);
      await expectStatus('audience', mint({ aud: ['api://other', API] }), 200);
    });
    it('a foreign or missing aud is 401', async () => {
      await expectStatus('audience', mint({ aud: 'api://other' }), 401);
      await expectStatus('audience', mint({ aud: [OTHER] }), 401);
      await expectStatus('audience', mint(), 401);
    });
    it('azp / client_id are still bound to the authorized party', async () => {
      await expectStatus('audience', mint({ aud: API, azp: OTHER }), 401);
      await expectStatus('audience', mint({ aud: API, client_id: OTHER }), 401);
      await expectStatus('audience', mint({ aud: API, azp: 42 }), 401);
    });
  });

  describe('requireAuthorizedParty: false', () => {
    it('a token naming no client passes', () => expectStatus('optOut', mint({ azp: undefined }), 200));
    it('a foreign azp / client_id / aud is still 401', async () => {
      await expectStatus('optOut', mint({ azp: OTHER }), 401);
      await expectStatus('optOut', mint({ azp: undefined, client_id: OTHER }), 401);
      await expectStatus('optOut', mint({ azp: undefined, aud: OTHER }), 401);
    });
  });
});
