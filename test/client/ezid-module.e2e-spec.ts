import { Test } from '@nestjs/testing';
import { EzidModule, EzidService } from '../../src';
import { EzidEmulator } from '../../src/testing';
import { CLIENT_ID, CLIENT_SECRET } from './client-test.helpers';

describe('EzidService in EzidModule', () => {
  let emulator: EzidEmulator;
  beforeAll(async () => {
    emulator = await EzidEmulator.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  });
  afterAll(() => emulator.stop());

  it('is provided and exported by EzidModule.forRoot() and talks to the configured base URL', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        EzidModule.forRoot({
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          apiBaseUrl: emulator.url,
          token: { jwksUri: emulator.jwksUri, issuer: emulator.issuer },
          callback: false,
        }),
      ],
    }).compile();
    const ezid = moduleRef.get(EzidService);
    const { state } = await ezid.emailCode.send('demo@example.com');
    const result = await ezid.emailCode.verify(state, emulator.outbox.last('demo@example.com')!.code!);
    expect(result.authenticated).toBe(true);
    const users = await ezid.legacy.emailLinkGetUsers();
    expect(users.length).toBeGreaterThan(0);
    await moduleRef.close();
  });
});
