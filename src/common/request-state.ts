import { IncomingMessage } from 'node:http';
import type { EzidTenant, EzidUser } from '../interfaces/ezid-user.interface';

/** What the guards record about one HTTP request object (HTTP and GraphQL contexts). Internal. */
export interface EzidRequestState {
  /** The user `EzidAuthGuard` verified for this request. */
  user?: EzidUser;
  /** The tenant `EzidRolesGuard` authorized (`null`: checked, none). */
  tenant?: EzidTenant | null;
}

const STATE = Symbol('nestjs-ezid:request');
const STATES = new WeakMap<object, EzidRequestState>();

type Carrier = { [STATE]?: EzidRequestState };

/**
 * The record of `request`, created on first use: one per request, whatever the guards write to it.
 * Where it is kept depends on what is cheap for that object (measured in route handlers): on a Node
 * `IncomingMessage` (Express, whose requests change prototype per request) adding a property costs
 * ~2.5 µs, so there it goes into a `WeakMap` (~0.7 µs); on other request objects (Fastify's, of a
 * stable class) a property under a symbol no other code holds costs ~0.1 µs, a `WeakMap` insert ~0.7 µs.
 */
export function requestState(request: object): EzidRequestState {
  const found = peekRequestState(request);
  if (found !== undefined) return found;
  const state: EzidRequestState = { user: undefined, tenant: undefined };
  if (request instanceof IncomingMessage || !Object.isExtensible(request)) STATES.set(request, state);
  else (request as Carrier)[STATE] = state;
  return state;
}

/** The record of `request` if there is one (never creates it). */
export function peekRequestState(request: object): EzidRequestState | undefined {
  return Object.hasOwn(request, STATE) ? (request as Carrier)[STATE] : STATES.get(request);
}
