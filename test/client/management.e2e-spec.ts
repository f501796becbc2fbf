import { EzidApiError, EzidService, EzidValidationError } from '../../src/client';
import { EzidApiProfileSource } from '../../src/authz/ezid-api-profile.source';
import { resolveEzidOptions } from '../../src/ezid-options.validation';
import { DEFAULT_EMULATOR_SEED, EMULATOR_IDS, EzidEmulator } from '../../src/testing';
import { CLIENT_ID, CLIENT_SECRET, decodeJwt, rejectionOf, serviceFor } from './client-test.helpers';

const API_KEY = 'ak_live_Q2hhbmdlTWVOb3dQbGVhc2VJdHNBVGVzdEtleQ';
const NOPE = 'ffffffffffffffffffffffff';

describe('EzidService management endpoints against the emulator', () => {
  let emulator: EzidEmulator;
  let ezid: EzidService;

  beforeAll(async () => {
    emulator = await EzidEmulator.start({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      apiKey: API_KEY,
    });
    ezid = serviceFor(emulator, { apiKey: API_KEY });
  });
  afterAll(() => emulator.stop());
  beforeEach(() => {
    emulator.seed(DEFAULT_EMULATOR_SEED);
    emulator.clearFaults();
    emulator.resetCounters();
    emulator.outbox.clear();
  });

  async function expectApiError(p: Promise<unknown>, endpoint: string, status: number, code?: string) {
    const err = await rejectionOf(p);
    expect(err).toBeInstanceOf(EzidApiError);
    expect(err).toMatchObject({ endpoint, status, ...(code && { code }) });
    return err as EzidApiError;
  }

  /** A validation error naming the field, and no request at all. */
  async function expectInvalid(p: Promise<unknown>, endpoint: string, field: string) {
    const before = emulator.requestCount(endpoint);
    const err = await rejectionOf(p);
    expect(err).toBeInstanceOf(EzidValidationError);
    expect(err).toMatchObject({ endpoint, field });
    expect(err.message).toContain(field);
    expect(emulator.requestCount(endpoint)).toBe(before);
    return err as EzidValidationError;
  }

  /** Signs a user in through the email-code flow and returns the login result. */
  async function signIn(email: string) {
    const { state } = await ezid.emailCode.send(email);
    return ezid.emailCode.verify(state, emulator.outbox.last(email)!.code!);
  }

  describe('stateful scenario: role -> permission -> assignment -> next token and organizations', () => {
    it('shows up in users.getOrganizations, the profile API source and the next token', async () => {
      const role = await ezid.roles.create({ name: 'Auditor', description: 'Reads the books' });
      expect(role).toMatchObject({ name: 'Auditor', slug: 'auditor', permissionIds: [] });
      const billing = (await ezid.permissions.list()).find((p) => p.name === 'Billing Manage')!;
      const updated = await ezid.roles.update(role.id, { name: 'Auditor', permissionIds: [billing.id] });
      expect(updated.permissionIds).toEqual([billing.id]);

      const org = await ezid.organizations.add({ name: 'acme', whiteListDomains: ['acme.com'] });
      const user = await ezid.users.create({ email: 'carol@acme.com', firstName: 'Carol', lastName: 'Cole' });
      const before = await signIn('carol@acme.com');
      expect(decodeJwt(before.tokens!.accessToken).payload.tenants).toEqual([]);

      const record = await ezid.users.setRoles(user.id, org.id, [role.id]);
      expect(record.roleIds).toEqual([role.id]);

      const orgs = await ezid.users.getOrganizations(user.id);
      expect(orgs).toEqual({
        userId: user.id,
        email: 'carol@acme.com',
        organizations: [
          {
            id: org.id,
            name: 'acme',
            whiteListDomains: ['acme.com'],
            allowProfilesOutsideOrganization: false,
            domain: undefined,
            workspaceName: undefined,
            isActive: true,
            status: 'active',
            roles: [{ id: role.id, name: 'Auditor', permissions: ['Billing Manage'] }],
          },
        ],
      });

      const expectedTenant = {
        id: org.id,
        name: 'acme',
        status: 'Verified',
        roles: [{ id: role.id, name: 'Auditor', permissions: ['Billing Manage'] }],
      };
      // profile.source 'api': the authorization guard's default source reads the same call.
      const source = new EzidApiProfileSource(
        resolveEzidOptions({
          clientId: CLIENT_ID,
          apiBaseUrl: emulator.url,
          apiKey: API_KEY,
          token: { jwksUri: emulator.jwksUri, issuer: emulator.issuer },
          profile: { source: 'api' },
        }),
        ezid,
      );
      expect(await source.getUserTenants(user.id)).toEqual([expectedTenant]);

      const after = await signIn('carol@acme.com');
      expect(after.profile!.tenants).toEqual([expectedTenant]);
      expect(decodeJwt(after.tokens!.accessToken).payload.tenants).toEqual([
        {
          tenant_id: org.id,
          tenant_name: 'acme',
          roles: [{ role_id: role.id, role_name: 'Auditor', permissions: ['Billing Manage'] }],
          status: 'Verified',
        },
      ]);

      // Renaming the permission, then removing the role, then the organization: each shows in the next token.
      await ezid.permissions.update(billing.id, { name: 'Billing Read' });
      expect(decodeJwt((await signIn('carol@acme.com')).tokens!.accessToken).payload.tenants).toMatchObject([
        { roles: [{ permissions: ['Billing Read'] }] },
      ]);
      await ezid.roles.remove(role.id);
      expect((await ezid.users.getOrganizations(user.id)).organizations[0].roles).toEqual([]);
      expect(decodeJwt((await signIn('carol@acme.com')).tokens!.accessToken).payload.tenants).toMatchObject([
        { tenant_id: org.id, roles: [] },
      ]);
      await ezid.organizations.delete(org.id);
      expect((await ezid.users.getOrganizations(user.id)).organizations).toEqual([]);
      expect(decodeJwt((await signIn('carol@acme.com')).tokens!.accessToken).payload.tenants).toEqual([]);
    });
  });

  describe('users', () => {
    it('list: a page of camelCase records; bad paging values are refused before sending', async () => {
      const page = await ezid.users.list({ page: 1, limit: 2 });
      expect(page).toHaveLength(2);
      expect(page[0]).toMatchObject({
        id: EMULATOR_IDS.demoUser,
        email: 'demo@example.com',
        firstName: 'Demo',
        lastName: 'User',
        phone: '+15550000001',
        emailVerified: true,
        isActive: true,
        organizationId: EMULATOR_IDS.tenant1,
        roleIds: [EMULATOR_IDS.adminRole, EMULATOR_IDS.memberRole],
        groups: [],
        tenants: [{ id: EMULATOR_IDS.tenant1, name: 'org1' }, { id: EMULATOR_IDS.tenant2 }],
      });
      expect(page[0].createdAt).toBeInstanceOf(Date);
      expect(await ezid.users.list({ page: 3, limit: 2 })).toEqual([]);
      await expectInvalid(ezid.users.list({ limit: 0 }), 'users.list', 'page.limit');
      await expectInvalid(ezid.users.list({ page: 1.5 }), 'users.list', 'page.page');
    });

    it('list: the apiKey is required by an emulator started with one (401)', async () => {
      await expectApiError(serviceFor(emulator).users.list(), 'users.list', 401, 'invalid_api_key');
      await expectApiError(
        serviceFor(emulator, { apiKey: 'ak_wrong_key_value' }).users.list(),
        'users.list',
        401,
        'invalid_api_key',
      );
    });

    it('iterate: every user across pages, then stops at the short page', async () => {
      for (let i = 0; i < 3; i++)
        await ezid.users.create({ email: `p${i}@example.com`, firstName: 'P', lastName: `${i}` });
      emulator.resetCounters();
      const ids: string[] = [];
      for await (const u of ezid.users.iterate({ pageSize: 3 })) ids.push(u.id);
      expect(ids).toHaveLength(7);
      expect(new Set(ids).size).toBe(7);
      expect(ids).toEqual((await ezid.users.list({ limit: 500 })).map((u) => u.id));
      expect(emulator.requestCount('users.list')).toBe(3 + 1); // 3 + 3 + 1, plus the list above
    });

    it('iterate: a full last page costs one more (empty) request; a server that ignores paging is read once', async () => {
      await ezid.users.create({ email: 'p@example.com', firstName: 'P', lastName: 'Q' }); // 5 users
      emulator.resetCounters();
      const all: string[] = [];
      for await (const u of ezid.users.iterate({ pageSize: 5 })) all.push(u.id);
      expect(all).toHaveLength(5);
      expect(emulator.requestCount('users.list')).toBe(2);

      const body = JSON.stringify(
        (await fetch(`${emulator.url}/api/v1/users?client_id=${CLIENT_ID}&limit=500`, {
          headers: { authorization: `Bearer ${API_KEY}` },
        }).then((r) => r.json())) as unknown[],
      );
      emulator.fault('users.list', { status: 200, body });
      emulator.resetCounters();
      const unpaged: string[] = [];
      for await (const u of ezid.users.iterate({ pageSize: 2 })) unpaged.push(u.id);
      expect(unpaged).toHaveLength(5);
      expect(emulator.requestCount('users.list')).toBe(1);

      const twoUsers = JSON.stringify((JSON.parse(body) as unknown[]).slice(0, 2));
      emulator.fault('users.list', { status: 200, body: twoUsers }); // same full page every time
      emulator.resetCounters();
      const repeated: string[] = [];
      for await (const u of ezid.users.iterate({ pageSize: 2 })) repeated.push(u.id);
      expect(repeated).toHaveLength(2);
      expect(emulator.requestCount('users.list')).toBe(2);

      expect(() => ezid.users.iterate({ pageSize: 501 })).toThrow(EzidValidationError);
    });

    it('get: by id; unknown id 404; malformed id refused', async () => {
      expect(await ezid.users.get(EMULATOR_IDS.alice)).toMatchObject({
        id: EMULATOR_IDS.alice,
        firstName: 'Alice',
      });
      await expectApiError(ezid.users.get(NOPE), 'users.get', 404, 'user_not_found');
      await expectInvalid(ezid.users.get('alice'), 'users.get', 'userId');
      await expectInvalid(ezid.users.get('../../config'), 'users.get', 'userId');
    });

    it('getByEmail: the lighter profile; unknown email 404; malformed email refused', async () => {
      expect(await ezid.users.getByEmail('Bob@Example.com')).toMatchObject({
        id: EMULATOR_IDS.bob,
        email: 'bob@example.com',
        connectionType: 'ManualUser',
        roleIds: [],
      });
      await expectApiError(ezid.users.getByEmail('nobody@example.com'), 'users.getByEmail', 404);
      await expectInvalid(ezid.users.getByEmail('bob@'), 'users.getByEmail', 'email');
    });

    it('create: a new record; a taken email 409; bad fields refused', async () => {
      const u = await ezid.users.create({
        email: 'dan@example.com',
        firstName: 'Dan',
        lastName: 'Dale',
        phone: '+442071838750',
      });
      expect(u).toMatchObject({ email: 'dan@example.com', phone: '+442071838750', emailVerified: false });
      expect(u.organizationId).toBeUndefined(); // EZiD's 000000000000000000000000
      await expectApiError(
        ezid.users.create({ email: 'DAN@example.com', firstName: 'D', lastName: 'D' }),
        'users.create',
        409,
        'user_exists',
      );
      emulator.resetCounters();
      await expectInvalid(
        ezid.users.create({ email: 'x', firstName: 'A', lastName: 'B' }),
        'users.create',
        'email',
      );
      await expectInvalid(
        ezid.users.create({ email: 'a@b.co', firstName: ' ', lastName: 'B' }),
        'users.create',
        'firstName',
      );
      await expectInvalid(
        ezid.users.create({ email: 'a@b.co', firstName: 'A', lastName: '' }),
        'users.create',
        'lastName',
      );
      const err = await expectInvalid(
        ezid.users.create({ email: 'a@b.co', firstName: 'A', lastName: 'B', phone: '020 7183 8750' }),
        'users.create',
        'phone',
      );
      expect(err.message).toContain('E.164');
      expect(err.message).not.toContain('020 7183 8750');
    });

    it('update: replaces names, phone and attributes; unknown id 404; bad fields refused', async () => {
      const u = await ezid.users.update(EMULATOR_IDS.alice, {
        email: 'alice@example.com',
        firstName: 'Alicia',
        lastName: 'Anders',
        phone: '+15550000009',
        rawAttributes: { plan: 'pro', seats: 3 },
      });
      expect(u).toMatchObject({
        firstName: 'Alicia',
        phone: '+15550000009',
        rawAttributes: { plan: 'pro', seats: 3 },
      });
      expect((await ezid.users.get(EMULATOR_IDS.alice)).firstName).toBe('Alicia');
      await expectApiError(
        ezid.users.update(EMULATOR_IDS.alice, { email: 'bob@example.com', firstName: 'A', lastName: 'B' }),
        'users.update',
        409,
      );
      await expectApiError(
        ezid.users.update(NOPE, { email: 'a@b.co', firstName: 'A', lastName: 'B' }),
        'users.update',
        404,
      );
      emulator.resetCounters();
      await expectInvalid(
        ezid.users.update(EMULATOR_IDS.alice, {
          email: 'a@b.co',
          firstName: 'A',
          lastName: 'B',
          phone: '+0123',
        }),
        'users.update',
        'phone',
      );
      await expectInvalid(
        ezid.users.update(EMULATOR_IDS.alice, {
          email: 'a@b.co',
          firstName: 'A',
          lastName: 'B',
          rawAttributes: [] as unknown as Record<string, unknown>,
        }),
        'users.update',
        'rawAttributes',
      );
    });

    it('verify: sets emailVerified (a "true"/"false" string on the wire); unknown id 404', async () => {
      const created = await ezid.users.create({ email: 'eve@example.com', firstName: 'Eve', lastName: 'E' });
      expect((await ezid.users.verify(created.id, true)).emailVerified).toBe(true);
      expect((await ezid.users.verify(created.id, false)).emailVerified).toBe(false);
      await expectApiError(ezid.users.verify(NOPE, true), 'users.verify', 404);
      emulator.resetCounters();
      await expectInvalid(
        ezid.users.verify(created.id, 'yes' as unknown as boolean),
        'users.verify',
        'verified',
      );
    });

    it('delete: the user is gone; a second delete 404', async () => {
      await expect(ezid.users.delete(EMULATOR_IDS.outsider)).resolves.toBeUndefined();
      await expectApiError(ezid.users.get(EMULATOR_IDS.outsider), 'users.get', 404);
      await expectApiError(ezid.users.delete(EMULATOR_IDS.outsider), 'users.delete', 404, 'user_not_found');
      emulator.resetCounters();
      await expectInvalid(ezid.users.delete(''), 'users.delete', 'userId');
    });

    it('setRoles: replaces the roles of one organization; unknown organization 404, unknown role 400', async () => {
      const u = await ezid.users.setRoles(EMULATOR_IDS.alice, EMULATOR_IDS.tenant1, [EMULATOR_IDS.adminRole]);
      expect(u.tenants).toMatchObject([{ id: EMULATOR_IDS.tenant1, roles: [{ name: 'Admin' }] }]);
      await expectApiError(
        ezid.users.setRoles(EMULATOR_IDS.alice, NOPE, [EMULATOR_IDS.adminRole]),
        'users.setRoles',
        404,
        'organization_not_found',
      );
      await expectApiError(
        ezid.users.setRoles(EMULATOR_IDS.alice, EMULATOR_IDS.tenant1, [NOPE]),
        'users.setRoles',
        400,
        'invalid_role',
      );
      emulator.resetCounters();
      await expectInvalid(
        ezid.users.setRoles(EMULATOR_IDS.alice, EMULATOR_IDS.tenant1, [EMULATOR_IDS.adminRole, 'admin']),
        'users.setRoles',
        'roleIds[1]',
      );
      await expectInvalid(
        ezid.users.setRoles(EMULATOR_IDS.alice, 'org1', []),
        'users.setRoles',
        'organizationId',
      );
    });

    it('getOrganizations: seeded memberships with permission names; unknown user 404', async () => {
      const orgs = await ezid.users.getOrganizations(EMULATOR_IDS.demoUser);
      expect(orgs.organizations.map((o) => [o.name, o.status, o.roles.map((r) => r.name)])).toEqual([
        ['org1', 'active', ['Admin']],
        ['org2', 'active', ['Member']],
      ]);
      expect(orgs.organizations[1].roles[0].permissions).toEqual(['Team View']);
      await expectApiError(ezid.users.getOrganizations(NOPE), 'users.getOrganizations', 404);
      await expectInvalid(ezid.users.getOrganizations('x'), 'users.getOrganizations', 'userId');
    });

    it('getLoginLogs: one entry per sign-in; unknown user 404', async () => {
      expect(await ezid.users.getLoginLogs(EMULATOR_IDS.bob)).toEqual([]);
      await signIn('bob@example.com');
      const logs = await ezid.users.getLoginLogs(EMULATOR_IDS.bob);
      expect(logs).toEqual([
        expect.objectContaining({
          ipAddress: '127.0.0.1',
          userAgent: 'EZiD Emulator',
          createdAt: expect.any(Date),
        }),
      ]);
      await expectApiError(ezid.users.getLoginLogs(NOPE), 'users.getLoginLogs', 404);
      await expectInvalid(ezid.users.getLoginLogs('x'), 'users.getLoginLogs', 'userId');
    });
  });

  describe('organizations', () => {
    it('add / get / list / update / delete round trip, with both white-list spellings mapped', async () => {
      const org = await ezid.organizations.add({
        name: 'globex',
        whiteListDomains: ['globex.com'],
        allowProfilesOutsideOrganization: true,
      });
      // add/get answer `WhiteListDomain`, list/update `WhiteListDomains` (the documented conflict).
      expect(org).toMatchObject({
        name: 'globex',
        whiteListDomains: ['globex.com'],
        allowProfilesOutsideOrganization: true,
        isActive: true,
      });
      expect(org.ssoConnectionToken).toMatch(/^org_token_/);
      expect(await ezid.organizations.get(org.id)).toMatchObject({
        id: org.id,
        whiteListDomains: ['globex.com'],
      });
      expect((await ezid.organizations.list()).map((o) => o.name)).toEqual(['org1', 'org2', 'globex']);
      const updated = await ezid.organizations.update(org.id, {
        name: 'Globex Corp',
        whiteListDomains: ['globex.com', 'globex.io'],
        website: 'https://globex.com',
        timeZone: 'Europe/Paris',
      });
      expect(updated).toMatchObject({
        name: 'Globex Corp',
        whiteListDomains: ['globex.com', 'globex.io'],
        website: 'https://globex.com',
        timeZone: 'Europe/Paris',
      });
      await ezid.organizations.delete(org.id);
      await expectApiError(
        ezid.organizations.get(org.id),
        'organizations.get',
        404,
        'organization_not_found',
      );
    });

    it('error paths: duplicate name 409, unknown ids 404, apiKey 401', async () => {
      await expectApiError(
        ezid.organizations.add({ name: 'ORG1' }),
        'organizations.add',
        409,
        'organization_exists',
      );
      await expectApiError(ezid.organizations.update(NOPE, { name: 'x' }), 'organizations.update', 404);
      await expectApiError(ezid.organizations.delete(NOPE), 'organizations.delete', 404);
      await expectApiError(serviceFor(emulator).organizations.list(), 'organizations.list', 401);
    });

    it('validation: names, domains and ids are refused before sending', async () => {
      await expectInvalid(ezid.organizations.add({ name: '' }), 'organizations.add', 'name');
      await expectInvalid(
        ezid.organizations.add({ name: 'a', whiteListDomains: ['ok.com', 'not a domain'] }),
        'organizations.add',
        'whiteListDomains[1]',
      );
      await expectInvalid(ezid.organizations.get('org1'), 'organizations.get', 'organizationId');
      await expectInvalid(
        ezid.organizations.update(EMULATOR_IDS.tenant1, { name: '   ' }),
        'organizations.update',
        'name',
      );
      await expectInvalid(ezid.organizations.delete('1'), 'organizations.delete', 'organizationId');
    });

    it('configByClientId and configByDomain: camelCase config, the by-domain JSON-string schema parsed', async () => {
      const byClient = await ezid.organizations.configByClientId();
      expect(byClient).toMatchObject({
        clientId: CLIENT_ID,
        branding: {
          brand: 'EZiD Emulator',
          btnColor: '#5e00cf',
          font: { family: 'Inter' },
          whiteLabel: false,
        },
        connections: [{ provider: 'MagicLink', isSsoConnection: false, isOauthConnection: false }],
        authConfig: { webauthn: true, passkeyAuth: true },
        localization: {
          isoCode: 'en',
          login: { subHeading: 'to continue' },
          magicOtp: { titleText: 'Login to' },
        },
      });
      const byDomain = await ezid.organizations.configByDomain(emulator.customDomain);
      expect(byDomain.branding.brandingSchema).toEqual({
        fontStyle: { fontFamily: 'Inter' },
        colorConfig: { primaryColor: '#5e00cf', textColor: '#000' },
        pageConfig: { pageTitle: 'EZiD Emulator' },
      });
      expect(byClient.branding.brandingSchema).toEqual(byDomain.branding.brandingSchema);
      await expectApiError(
        ezid.organizations.configByDomain('unknown.example.org'),
        'organizations.config',
        404,
        'config_not_found',
      );
      emulator.resetCounters();
      await expectInvalid(
        ezid.organizations.configByDomain('https://x.com/'),
        'organizations.config',
        'domain',
      );
      emulator.fault('organizations.config', { status: 500, times: 1 });
      await expectApiError(ezid.organizations.configByClientId(), 'organizations.config', 500);
    });
  });

  describe('roles and permissions', () => {
    it('roles: list, create (picked from the list EZiD answers), update, remove; errors', async () => {
      expect((await ezid.roles.list()).map((r) => [r.name, r.slug])).toEqual([
        ['Admin', 'admin'],
        ['Member', 'member'],
      ]);
      const r = await ezid.roles.create({ name: 'Support Agent' });
      expect(r).toMatchObject({ name: 'Support Agent', slug: 'support_agent', description: 'Support Agent' });
      await expectApiError(ezid.roles.create({ name: 'support agent' }), 'roles.create', 409, 'role_exists');
      const u = await ezid.roles.update(r.id, {
        name: 'Support',
        slug: 'support',
        description: 'Front line',
        permissionIds: [EMULATOR_IDS.teamView, EMULATOR_IDS.teamManage],
      });
      expect(u).toMatchObject({
        id: r.id,
        name: 'Support',
        permissionIds: [EMULATOR_IDS.teamView, EMULATOR_IDS.teamManage],
      });
      await expectApiError(ezid.roles.update(NOPE, { name: 'x' }), 'roles.update', 404, 'role_not_found');
      await expectApiError(
        ezid.roles.update(r.id, { name: 'x', permissionIds: [NOPE] }),
        'roles.update',
        400,
        'invalid_permission',
      );
      await ezid.roles.remove(r.id);
      await expectApiError(ezid.roles.remove(r.id), 'roles.remove', 404);
      await expectApiError(serviceFor(emulator).roles.list(), 'roles.list', 401);
    });

    it('roles: validation before sending', async () => {
      await expectInvalid(ezid.roles.create({ name: '' }), 'roles.create', 'name');
      await expectInvalid(ezid.roles.create({ name: '!!!' }), 'roles.create', 'slug');
      await expectInvalid(ezid.roles.update('admin', { name: 'A' }), 'roles.update', 'roleId');
      await expectInvalid(
        ezid.roles.update(EMULATOR_IDS.adminRole, { name: 'A', permissionIds: ['team_view'] }),
        'roles.update',
        'permissionIds[0]',
      );
      await expectInvalid(ezid.roles.remove('x'), 'roles.remove', 'roleId');
    });

    it('permissions: list, update, remove (removed from every role); errors and validation', async () => {
      expect((await ezid.permissions.list()).map((p) => p.slug)).toEqual([
        'team_view',
        'team_manage',
        'billing_manage',
      ]);
      const p = await ezid.permissions.update(EMULATOR_IDS.teamView, {
        name: 'Team Read',
        description: 'Read the team',
      });
      expect(p).toEqual({
        id: EMULATOR_IDS.teamView,
        name: 'Team Read',
        slug: 'team_read',
        description: 'Read the team',
        isActive: undefined,
        isDeleted: undefined,
      });
      await expectApiError(
        ezid.permissions.update(EMULATOR_IDS.teamManage, { name: 'x', slug: 'team_read' }),
        'permissions.update',
        409,
      );
      await ezid.permissions.remove(EMULATOR_IDS.teamView);
      expect((await ezid.roles.list()).find((r) => r.name === 'Member')!.permissionIds).toEqual([]);
      await expectApiError(ezid.permissions.remove(EMULATOR_IDS.teamView), 'permissions.remove', 404);
      await expectApiError(ezid.permissions.update(NOPE, { name: 'x' }), 'permissions.update', 404);
      await expectApiError(serviceFor(emulator).permissions.list(), 'permissions.list', 401);
      emulator.resetCounters();
      await expectInvalid(
        ezid.permissions.update(EMULATOR_IDS.teamManage, { name: '' }),
        'permissions.update',
        'name',
      );
      await expectInvalid(ezid.permissions.remove('team_view'), 'permissions.remove', 'permissionId');
    });
  });

  it('passkey credentials: ids, names and tokens are checked before sending', async () => {
    const token = emulator.mintAccessToken('demo@example.com');
    await expectInvalid(ezid.passkeys.rename(token, 'cred-1', '  '), 'passkeys.rename', 'name');
    await expectInvalid(ezid.passkeys.rename(token, 'cred 1', 'Laptop'), 'passkeys.rename', 'passkeyId');
    await expectInvalid(ezid.passkeys.rename(token, 'cred-1', 'x'.repeat(101)), 'passkeys.rename', 'name');
    await expectInvalid(ezid.passkeys.delete(token, ''), 'passkeys.delete', 'passkeyId');
    await expectInvalid(ezid.passkeys.list(''), 'passkeys.list', 'userAccessToken');
    expect(await ezid.passkeys.list(token)).toEqual([]);
    await expectApiError(
      ezid.passkeys.rename(token, 'cred-1', 'Laptop'),
      'passkeys.rename',
      404,
      'not_found',
    );
  });

  it('endpoint overrides apply to the new rows in the client and the emulator alike', async () => {
    const endpoints = {
      'roles.remove': { method: 'POST' as const, path: '/api/v2/roles/{roleId}/delete' },
      'users.getOrganizations': { path: '/api/v1/users/{userId}/organizations' },
    };
    const emu2 = await EzidEmulator.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, endpoints });
    try {
      const fixed = serviceFor(emu2, { endpoints });
      const stale = serviceFor(emu2);
      const role = await fixed.roles.create({ name: 'Temp' });
      await expectApiError(stale.roles.remove(role.id), 'roles.remove', 404, 'not_found');
      await fixed.roles.remove(role.id);
      expect((await fixed.roles.list()).some((r) => r.id === role.id)).toBe(false);
      expect(emu2.requestCount('roles.remove')).toBe(1);
      expect((await fixed.users.getOrganizations(EMULATOR_IDS.alice)).organizations).toHaveLength(1);
      await expectApiError(stale.users.getOrganizations(EMULATOR_IDS.alice), 'users.getOrganizations', 404);
    } finally {
      await emu2.stop();
    }
  });

  it('never puts the apiKey or request values in an error', async () => {
    const err = await expectApiError(
      serviceFor(emulator, { apiKey: 'ak_wrong_Zm9vYmFyYmF6cXV4' }).users.getByEmail(
        'carol.secret@example.com',
      ),
      'users.getByEmail',
      401,
    );
    const text = `${err.message} ${String(err)} ${JSON.stringify(err)}`;
    expect(text).not.toContain('ak_wrong');
    expect(text).not.toContain(API_KEY);
    expect(text).not.toContain('carol.secret');
  });
});
