import type { EmulatorSeed } from './emulator.types';

/** Fixed 24-hex ids of the default seed, for assertions in tests. */
export const EMULATOR_IDS = Object.freeze({
  demoUser: '6667d1a2b3c4d5e6f7a8b901',
  alice: '6667d1a2b3c4d5e6f7a8b902',
  bob: '6667d1a2b3c4d5e6f7a8b903',
  outsider: '6667d1a2b3c4d5e6f7a8b904',
  tenant1: '664e2686a1b2c3d4e5f60001',
  tenant2: '664e2686a1b2c3d4e5f60002',
  adminRole: '6638a1b2c3d4e5f6a7b80001',
  memberRole: '6638a1b2c3d4e5f6a7b80002',
  teamView: '668e7e5946b448ab754b44a8',
  teamManage: '668e7e5946b448ab754b44a9',
  billingManage: '668e7e5946b448ab754b44aa',
});

/**
 * The default data: two tenants (`org1`, `org2`), roles Admin (`Team View`, `Team Manage`,
 * `Billing Manage`) and Member (`Team View`), and users:
 * - `demo@example.com` (Demo User): Admin in org1, Member in org2 (the default user of `mintAccessToken`);
 * - `alice@example.com`: Member in org1; `bob@example.com`: Admin in org2;
 * - `outsider@example.com`: no tenant.
 */
export const DEFAULT_EMULATOR_SEED: EmulatorSeed = Object.freeze({
  permissions: [
    { id: EMULATOR_IDS.teamView, name: 'Team View' },
    { id: EMULATOR_IDS.teamManage, name: 'Team Manage' },
    { id: EMULATOR_IDS.billingManage, name: 'Billing Manage' },
  ],
  roles: [
    {
      id: EMULATOR_IDS.adminRole,
      name: 'Admin',
      permissions: ['Team View', 'Team Manage', 'Billing Manage'],
    },
    { id: EMULATOR_IDS.memberRole, name: 'Member', permissions: ['Team View'] },
  ],
  tenants: [
    { id: EMULATOR_IDS.tenant1, name: 'org1' },
    { id: EMULATOR_IDS.tenant2, name: 'org2' },
  ],
  users: [
    {
      id: EMULATOR_IDS.demoUser,
      email: 'demo@example.com',
      firstName: 'Demo',
      lastName: 'User',
      phone: '+15550000001',
      memberships: [
        { tenant: EMULATOR_IDS.tenant1, roles: ['Admin'] },
        { tenant: EMULATOR_IDS.tenant2, roles: ['Member'] },
      ],
    },
    {
      id: EMULATOR_IDS.alice,
      email: 'alice@example.com',
      firstName: 'Alice',
      lastName: 'Anders',
      phone: '+15550000002',
      memberships: [{ tenant: EMULATOR_IDS.tenant1, roles: ['Member'] }],
    },
    {
      id: EMULATOR_IDS.bob,
      email: 'bob@example.com',
      firstName: 'Bob',
      lastName: 'Berg',
      memberships: [{ tenant: EMULATOR_IDS.tenant2, roles: ['Admin'] }],
    },
    { id: EMULATOR_IDS.outsider, email: 'outsider@example.com', firstName: 'Otto', lastName: 'Outsider' },
  ],
}) as EmulatorSeed;
