import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EzidService } from '../../src/client';
import { tenantsFromOrganizations } from '../../src/authz/ezid-api-profile.source';
import { resolveEzidOptions } from '../../src/ezid-options.validation';
import { CLIENT_ID, CLIENT_SECRET } from './client-test.helpers';

const USER = 'a'.repeat(24);

/** `is_active` values EZiD might send (or a tampered response might carry), and whether each is verified. */
const CASES: [string, unknown, boolean][] = [
  ['active', true, true],
  ['active', false, false],
  ['active', 'false', false],
  ['active', 'true', false],
  ['active', 0, false],
  ['active', 1, false],
  ['active', null, false],
  ['active', undefined, false],
  ['Verified', false, false],
  ['Verified', 'false', false],
  ['Verified', true, true],
];

describe('organization membership status from users.getOrganizations (strict booleans)', () => {
  let server: Server;
  let ezid: EzidService;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const organizations = CASES.map(([status, isActive], i) => ({
        id: `${i}`.padStart(24, '0'),
        Name: `org${i}`,
        roles: [{ role_id: 'r', role_name: 'Admin', permissions: ['Billing Manage'] }],
        ...(isActive === undefined ? {} : { is_active: isActive }),
        status,
      }));
      expect(req.url).toContain(`/api/account/identity/users/${USER}/organizations`);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: USER, email_id: 'u@example.com', organizations }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    ezid = new EzidService(
      resolveEzidOptions({
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        apiBaseUrl: url,
        token: { jwksUri: `${url}/jwks`, issuer: 'x' },
      }),
    );
  });
  afterAll(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );

  it.each(CASES.map((c, i) => [...c, i] as const))(
    'status %p with is_active %p: verified = %p',
    async (_status, isActive, verified, i) => {
      const result = await ezid.users.getOrganizations(USER);
      const org = result.organizations[i];
      expect(org.isActive).toBe(isActive === undefined ? undefined : isActive === true);
      const tenant = tenantsFromOrganizations(result)[i];
      expect(tenant.status === 'Verified').toBe(verified);
    },
  );
});
