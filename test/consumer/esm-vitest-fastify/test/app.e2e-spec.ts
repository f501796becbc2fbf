import { Test } from '@nestjs/testing';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { EzidModule } from 'nestjs-ezid';
import { EzidEmulator } from 'nestjs-ezid/testing';
import { AppController } from '../src/app.controller.js';
test('demo@example.com, Admin in org1 only: 200 there, 403 in org2, 401 without a token', async () => {
  const emu = await EzidEmulator.start();
  const imports = [EzidModule.forRoot(emu.moduleOptions())];
  const moduleRef = await Test.createTestingModule({ imports, controllers: [AppController] }).compile();
  const app = await moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter()).init();
  const admin = (org: string) => app.inject().get(`/orgs/${emu.tenantId(org)}/admin`);
  const auth = { authorization: `Bearer ${emu.tokenFor('demo@example.com')}` };
  const res = [await admin('org1').headers(auth), await admin('org2').headers(auth), await admin('org1')];
  await Promise.all([app.close(), emu.stop()]);
  expect(res.map((r) => r.statusCode)).toEqual([200, 403, 401]);
});
