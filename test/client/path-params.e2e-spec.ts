import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EzidService, EzidValidationError } from '../../src/client';
import { EZID_ENDPOINTS, EzidEndpointName } from '../../src/client/ezid-endpoints';
import { EzidHttpClient } from '../../src/client/ezid-http.client';
import { resolveEzidOptions } from '../../src/ezid-options.validation';
import { CLIENT_ID, CLIENT_SECRET, rejectionOf } from './client-test.helpers';

/** Values that would retarget a request or break out of its path segment. */
const HOSTILE = [
  '.',
  '..',
  '%2e',
  '%2E',
  '%2e%2e',
  '%2E%2e',
  '.%2e',
  '%2e.',
  '%252e%252e',
  '%25252e',
  'a/b',
  '../x',
  '%2F',
  '%2fadmin',
  'a?b',
  '%3F',
  'a#b',
  '%23',
  'a\\b',
  '%5C',
  'a\u0000b',
  '%00',
  'line\nbreak',
  '%0d%0a',
  'del\u007f',
  'c1\u0085',
  '',
  '\uD800',
  'a\uDC00b',
  '\uDE00\uD83D',
];

/** Every row of the endpoint table that has path parameters, with those parameter names. */
const ROWS = Object.entries(EZID_ENDPOINTS)
  .map(([name, def]) => [name, [...def.path.matchAll(/\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1])] as const)
  .filter(([, keys]) => keys.length > 0);

describe('path parameters never retarget an EZiD request', () => {
  let server: Server;
  let baseUrl: string;
  let requests: string[];

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  beforeEach(() => {
    requests = [];
  });

  const options = () =>
    resolveEzidOptions({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      apiKey: 'api_key_for_tests',
      apiBaseUrl: baseUrl,
      token: { jwksUri: `${baseUrl}/jwks`, issuer: 'x' },
    });

  it('covers at least the passkey, user, role, permission and organization rows', () => {
    expect(ROWS.map(([name]) => name)).toEqual(
      expect.arrayContaining(['passkeys.delete', 'users.getByEmail', 'roles.remove', 'organizations.get']),
    );
  });

  it.each(ROWS)('%s: every hostile value of %p is refused before any request', async (name, keys) => {
    const http = new EzidHttpClient(options());
    const valid = Object.fromEntries(keys.map((k) => [k, 'a'.repeat(24)]));
    for (const key of keys) {
      for (const value of HOSTILE) {
        const err = await rejectionOf(
          http.request(name as EzidEndpointName, {
            params: { ...valid, [key]: value },
            bearer: 'user_token',
          }),
        );
        expect(err).toBeInstanceOf(EzidValidationError);
        expect(err).toMatchObject({ endpoint: name, field: key });
      }
    }
    expect(requests).toEqual([]);
    // The same row with safe values does reach the server: the counter can see requests.
    await http
      .request(name as EzidEndpointName, { params: valid, bearer: 'user_token' })
      .catch(() => undefined);
    expect(requests).toHaveLength(1);
  });

  it.each(['.', '..', '%2e%2e', 'x/../..'])(
    'passkeys.delete("%s") sends nothing (no DELETE of the collection with the user Bearer)',
    async (passkeyId) => {
      const ezid = new EzidService(options());
      const err = await rejectionOf(ezid.passkeys.delete('user.access.token', passkeyId));
      expect(err).toBeInstanceOf(EzidValidationError);
      expect(requests).toEqual([]);
    },
  );

  it.each(['\uD800@example.com', 'a\uDFFF@example.com'])(
    'a lone surrogate (%j) is an EzidValidationError, not a URIError, and sends nothing',
    async (email) => {
      const ezid = new EzidService(options());
      const err = await rejectionOf(ezid.users.getByEmail(email));
      expect(err).toBeInstanceOf(EzidValidationError);
      expect(err).toMatchObject({
        endpoint: 'users.getByEmail',
        problem: expect.stringContaining('surrogate'),
      });
      expect(requests).toEqual([]);
    },
  );

  it('a well-formed astral character (a surrogate pair) is still accepted and encoded', async () => {
    const ezid = new EzidService(options());
    await ezid.users.getByEmail('\u{1F600}@example.com').catch(() => undefined);
    expect(requests).toHaveLength(1);
    expect(requests[0]).toContain(encodeURIComponent('\u{1F600}@example.com'));
  });
});
