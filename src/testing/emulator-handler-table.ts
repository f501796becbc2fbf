import type { EzidEndpointName } from '../client/ezid-endpoints';
import { AUTH_HANDLERS, EmulatorHandler } from './emulator-handlers';
import { MANAGEMENT_HANDLERS } from './emulator-management.handlers';
import { MFA_HANDLERS } from './emulator-mfa.handlers';

/** @internal One handler per row of the endpoint table (a unit spec checks the two agree). */
export const EMULATOR_HANDLERS: Partial<Record<EzidEndpointName, EmulatorHandler>> = Object.freeze({
  ...AUTH_HANDLERS,
  ...MANAGEMENT_HANDLERS,
  ...MFA_HANDLERS,
});
