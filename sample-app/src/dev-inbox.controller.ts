import { Controller, Get, Inject, Query, UseGuards } from '@nestjs/common';
import { Public } from 'nestjs-ezid';
import type { EzidEmulator } from 'nestjs-ezid/testing';
import { LoopbackOnlyGuard } from './loopback-only.guard';

export const EMULATOR = Symbol('EMULATOR');

/**
 * Emulator mode only: what the embedded EZiD emulator "emailed" or "texted" and can still sign someone
 * in (used and expired links and codes are hidden), so the page can show a dev inbox with the clickable
 * magic link and the codes. Never mounted against a real EZiD, and 404 unless the request names a
 * loopback `Host` (and a loopback `Origin`, when sent).
 */
@Controller('dev')
@UseGuards(LoopbackOnlyGuard)
export class DevInboxController {
  constructor(@Inject(EMULATOR) private readonly emulator: EzidEmulator) {}

  @Public()
  @Get('inbox')
  inbox(@Query('to') to?: string) {
    const messages = this.emulator.outbox
      .all()
      .filter((m) => (!to || m.to === to) && !this.emulator.outbox.isUsed(m))
      .slice(-10)
      .reverse()
      .map((m) => ({ to: m.to, kind: m.kind, link: m.link, code: m.code, sentAt: m.sentAt }));
    return { mode: 'emulator', messages };
  }
}
