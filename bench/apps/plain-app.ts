// The unguarded baseline: a Nest app with no auth module and no guard, served by the same HTTP
// server as the app under test (see server.ts), under the /u prefix.
import { Controller, Get, Module } from '@nestjs/common';

@Controller()
export class PlainBenchController {
  @Get('unguarded')
  unguarded() {
    return { ok: true };
  }
}

@Module({ controllers: [PlainBenchController] })
export class PlainBenchModule {}
