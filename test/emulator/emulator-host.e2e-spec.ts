import { request } from 'node:http';
import { EzidEmulator } from '../../src/testing';

/** One raw HTTP request (fetch may not set `Host`), with the status and parsed body. */
function raw(
  emulator: EzidEmulator,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const { port } = new URL(emulator.url);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: Number(port),
        method,
        path,
        headers: { ...headers, ...(payload ? { 'content-type': 'application/json' } : {}) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(text || '{}') }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

describe('EzidEmulator refuses non-loopback hosts and origins (DNS rebinding)', () => {
  let emulator: EzidEmulator;
  let port: string;
  const create = `/api/v1/users?client_id=cli_test`;

  beforeAll(async () => {
    emulator = await EzidEmulator.start({ clientId: 'cli_test', clientSecret: 's3cret' });
    port = new URL(emulator.url).port;
  });
  afterAll(() => emulator.stop());
  beforeEach(() => emulator.resetCounters());

  it.each([
    'evil.example',
    'rebind.evil.example:PORT',
    'app.localhost:PORT',
    'localhost.evil.example:PORT',
    '127.0.0.1.nip.io:PORT',
    '127.0.0.1@evil.example',
    '10.0.0.5:PORT',
  ])('Host %p: 403 host_not_allowed, no management call is made', async (host) => {
    const h = host.replace('PORT', port);
    const res = await raw(emulator, 'POST', create, { host: h }, { email: 'mallory@example.com' });
    expect(res.status).toBe(403);
    expect(res.json).toMatchObject({ error_code: 'host_not_allowed' });
    expect(emulator.requestCount('users.create')).toBe(0);
    expect(emulator.getUser('mallory@example.com')).toBeUndefined();
  });

  it.each(['https://evil.example', 'http://evil.localhost:3000', 'null'])(
    'a browser Origin %p (loopback Host): 403, no change',
    async (origin) => {
      const res = await raw(
        emulator,
        'POST',
        create,
        { host: `127.0.0.1:${port}`, origin },
        { email: 'mallory@example.com' },
      );
      expect(res.status).toBe(403);
      expect(emulator.getUser('mallory@example.com')).toBeUndefined();
    },
  );

  it.each(['127.0.0.1:PORT', 'localhost:PORT', '[::1]:PORT', 'LOCALHOST', '127.3.2.1'])(
    'Host %p is served',
    async (host) => {
      const res = await raw(emulator, 'GET', '/api/.well-known/jwks.json', {
        host: host.replace('PORT', port),
      });
      expect(res.status).toBe(200);
      expect(Array.isArray(res.json.keys)).toBe(true);
    },
  );

  it('a loopback Origin (a local dev page) is served', async () => {
    const res = await raw(emulator, 'GET', '/api/.well-known/jwks.json', {
      host: `localhost:${port}`,
      origin: 'http://localhost:3000',
    });
    expect(res.status).toBe(200);
  });
});
