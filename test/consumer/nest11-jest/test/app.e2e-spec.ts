import { Test } from '@nestjs/testing';
import { EzidModule } from 'nestjs-ezid';
import { EzidEmulator } from 'nestjs-ezid/testing';
import request from 'supertest';
import { AppController } from '../src/app.controller';
test('demo@example.com, Admin in org1 only: 200 there, 403 in org2, 401 without a token', async () => {
  const emu = await EzidEmulator.start();
  const imports = [EzidModule.forRoot(emu.moduleOptions())];
  const moduleRef = await Test.createTestingModule({ imports, controllers: [AppController] }).compile();
  const app = await moduleRef.createNestApplication().init();
  const admin = (org: string) => request(app.getHttpServer()).get(`/orgs/${emu.tenantId(org)}/admin`);
  const auth = { Authorization: `Bearer ${emu.tokenFor('demo@example.com')}` };
  const res = [await admin('org1').set(auth), await admin('org2').set(auth), await admin('org1')];
  await Promise.all([app.close(), emu.stop()]);
  expect(res.map((r) => r.status)).toEqual([200, 403, 401]);
});
