import { request as httpRequest } from 'node:http';
import {
  isLoopbackHost,
  isProductionEnv,
  sampleAppConfig,
  SampleAppConfigError,
} from '../../sample-app/src/ezid-env';
import { RunningSampleApp, startSampleApp } from '../../sample-app/src/main';

const REAL = {
  EZID_CLIENT_ID: 'cli_real',
  EZID_CLIENT_SECRET: 'real-secret',
  EZID_API_URL: 'https://api.ezid.example',
  EZID_JWKS_URI: 'https://api.ezid.example/.well-known/jwks.json',
  EZID_ISSUER: 'https://api.ezid.example',
};

function refusal(env: NodeJS.ProcessEnv): string {
  try {
    sampleAppConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(SampleAppConfigError);
    return (err as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

describe('sample app configuration', () => {
  it('dev default: no variables embeds the emulator on 127.0.0.1:3000', () => {
    expect(sampleAppConfig({})).toEqual({
      mode: 'emulator',
      host: '127.0.0.1',
      port: 3000,
      publicUrl: undefined,
    });
    expect(sampleAppConfig({ NODE_ENV: 'development', HOST: '::1', PORT: '0' })).toMatchObject({
      mode: 'emulator',
      host: '::1',
      port: 0,
    });
  });

  it.each(['0.0.0.0', '::', '192.168.1.10', 'example.com', '10.0.0.1', 'localhost.example.com'])(
    'refuses the emulator on the non-loopback HOST %s',
    (host) => {
      expect(refusal({ HOST: host })).toMatch(/Refusing to embed the EZiD emulator on HOST=.*loopback/);
    },
  );

  it('refuses the emulator with NODE_ENV=production, on loopback too', () => {
    expect(refusal({ NODE_ENV: 'production', HOST: '0.0.0.0' })).toMatch(/NODE_ENV=production/);
    expect(refusal({ NODE_ENV: 'production' })).toMatch(/NODE_ENV=production/);
  });

  it.each(['Production', 'PRODUCTION', ' production', 'production ', 'prod', 'Prod', ' PROD\t'])(
    'refuses the emulator with NODE_ENV=%j (production in another spelling)',
    (nodeEnv) => {
      expect(isProductionEnv(nodeEnv)).toBe(true);
      expect(refusal({ NODE_ENV: nodeEnv })).toMatch(/NODE_ENV=production/);
    },
  );

  it.each([undefined, '', 'development', 'test', 'staging', 'preprod', 'productionish'])(
    'NODE_ENV=%j is not production',
    (nodeEnv) => {
      expect(isProductionEnv(nodeEnv)).toBe(false);
      expect(sampleAppConfig(nodeEnv === undefined ? {} : { NODE_ENV: nodeEnv }).mode).toBe('emulator');
    },
  );

  it.each([
    'https://app.example.com',
    'http://0.0.0.0:3000',
    'http://192.168.1.10:3000',
    'http://localhost.example.com:3000',
    'http://127.0.0.1.nip.io:3000',
    'http://user:hunter2@localhost:3000',
    'ftp://localhost/',
    'localhost:3000',
  ])('refuses the emulator with the non-loopback PUBLIC_URL %s, without echoing it', (publicUrl) => {
    const message = refusal({ PUBLIC_URL: publicUrl });
    expect(message).toMatch(/PUBLIC_URL that is not a loopback/);
    expect(message).not.toContain(publicUrl);
  });

  it.each(['http://localhost:3000', 'http://127.0.0.1:4000/', 'http://[::1]:3000', 'https://localhost'])(
    'accepts the loopback PUBLIC_URL %s in emulator mode',
    (publicUrl) => {
      expect(sampleAppConfig({ PUBLIC_URL: publicUrl })).toMatchObject({ mode: 'emulator', publicUrl });
    },
  );

  it('counts every EZID_* variable: a lone EZID_AUDIENCE selects real mode and lists the missing ones', () => {
    const message = refusal({ EZID_AUDIENCE: 'my-api', PUBLIC_URL: 'https://app.example.com' });
    expect(message).toContain(
      'missing: EZID_CLIENT_ID, EZID_CLIENT_SECRET, EZID_API_URL, EZID_JWKS_URI, EZID_ISSUER',
    );
    expect(refusal({ EZID_SOMETHING_ELSE: 'x' })).toContain('set: EZID_SOMETHING_ELSE');
    const { EZID_ISSUER: _issuer, ...partial } = REAL;
    expect(refusal({ ...partial, PUBLIC_URL: 'https://app.example.com' })).toContain('missing: EZID_ISSUER;');
  });

  it('never echoes the values of the variables it lists', () => {
    const { EZID_ISSUER: _issuer, ...partial } = REAL;
    expect(refusal(partial)).not.toContain('real-secret');
  });

  it('requires PUBLIC_URL in real mode', () => {
    expect(refusal({ ...REAL })).toMatch(/PUBLIC_URL is required/);
    expect(refusal({ ...REAL, PUBLIC_URL: '' })).toMatch(/PUBLIC_URL is required/);
  });

  it('real mode with everything set starts on any HOST, in production too', () => {
    const env = { ...REAL, PUBLIC_URL: 'https://app.example.com', HOST: '0.0.0.0', NODE_ENV: 'production' };
    expect(sampleAppConfig(env)).toEqual({
      mode: 'real',
      host: '0.0.0.0',
      port: 3000,
      publicUrl: 'https://app.example.com',
    });
  });

  it('refuses a PORT that is not a port', () => {
    expect(refusal({ PORT: 'eighty' })).toMatch(/PORT must be an integer/);
    expect(refusal({ PORT: '70000' })).toMatch(/PORT must be an integer/);
  });

  it('knows the loopback hosts', () => {
    for (const h of [
      'localhost',
      'LOCALHOST',
      '127.0.0.1',
      '127.1.2.3',
      '::1',
      '[::1]',
      '::ffff:127.0.0.1',
    ]) {
      expect(isLoopbackHost(h)).toBe(true);
    }
    for (const h of ['0.0.0.0', '::', '', '128.0.0.1', '::ffff:10.0.0.1', 'localhost.', '127.0.0.1.nip.io']) {
      expect(isLoopbackHost(h)).toBe(false);
    }
  });

  it('startSampleApp rejects a refused configuration before starting anything', async () => {
    await expect(startSampleApp({ NODE_ENV: 'production', HOST: '0.0.0.0', PORT: '0' })).rejects.toThrow(
      SampleAppConfigError,
    );
  });
});

/** A GET with exactly these headers (fetch() would not let a test set `Host`). */
function get(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'GET', headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('sample app dev inbox: loopback Host and Origin only', () => {
  let running: RunningSampleApp;
  let inbox: string;
  let port: string;
  const saved = { ...process.env };

  beforeAll(async () => {
    running = await startSampleApp({ PORT: '0' });
    port = new URL(running.url).port;
    inbox = `http://127.0.0.1:${port}/dev/inbox`;
  });
  afterAll(async () => {
    await running?.close();
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  });

  it.each<[string, Record<string, string>]>([
    ['Host 127.0.0.1', { host: `127.0.0.1:PORT` }],
    ['Host localhost', { host: `localhost:PORT` }],
    ['Host localhost, Origin localhost', { host: `localhost:PORT`, origin: `http://localhost:PORT` }],
  ])('%s: 200', async (_label, headers) => {
    const h = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.replace('PORT', port)]));
    expect(await get(inbox, h)).toBe(200);
  });

  it.each<[string, Record<string, string>]>([
    ['a rebound DNS name in Host', { host: `evil.example:PORT` }],
    ['a LAN address in Host', { host: `192.168.1.10:PORT` }],
    ['a loopback-looking name in Host', { host: `127.0.0.1.nip.io:PORT` }],
    ['userinfo in Host', { host: `evil@127.0.0.1:PORT` }],
    ['a foreign Origin with a loopback Host', { host: `127.0.0.1:PORT`, origin: 'https://evil.example' }],
    ['Origin: null with a loopback Host', { host: `127.0.0.1:PORT`, origin: 'null' }],
  ])('%s: 404', async (_label, headers) => {
    const h = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.replace('PORT', port)]));
    expect(await get(inbox, h)).toBe(404);
  });

  it('the rest of the app still answers a non-loopback Host (only /dev/* is loopback-only)', async () => {
    expect(await get(`http://127.0.0.1:${port}/health`, { host: `app.example:${port}` })).not.toBe(404);
  });
});
