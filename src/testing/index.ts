// nestjs-ezid/testing: the EZiD emulator for tests and offline development.
export { EzidEmulator, EZID_EMULATOR_DEFAULT_CLIENT_ID, EZID_EMULATOR_DEFAULT_ISSUER } from './ezid-emulator';
export { EZID_TEST_PERMISSIONS_ROLE } from './emulator-kit';
export type { EzidEmulatorModuleOverrides, EzidTestTenantGrant, EzidTestTokenOptions } from './emulator-kit';
export { ezidRunAs } from './ezid-run-as';
export type { EzidRunAsIdentity, EzidRunAsRequest } from './ezid-run-as';
export { DEFAULT_EMULATOR_SEED, EMULATOR_IDS } from './default-seed';
export type {
  EzidEmulatorOptions,
  EmulatorSeed,
  EmulatorUserSeed,
  EmulatorMembershipSeed,
  EmulatorTenantSeed,
  EmulatorRoleSeed,
  EmulatorPermissionSeed,
  MintOverrides,
  EmulatorFault,
  OutboxMessage,
  EmulatorOutbox,
} from './emulator.types';
export type { EmulatorKeyPair, EmulatorSigningAlgorithm } from './emulator-jwt';
export { TestPasskeyAuthenticator } from './test-passkey-authenticator';
