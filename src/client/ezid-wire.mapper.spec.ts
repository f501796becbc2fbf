import { EzidApiError } from './ezid-api.error';
import { mapAuthResult, mapLegacyTokens, mapProfile, mapState } from './ezid-wire.mapper';

describe('wire -> domain mapping', () => {
  it('accepts the flat Status API shape', () => {
    const r = mapAuthResult(
      {
        authenticated: true,
        access_token: 'at',
        token_type: 'Bearer',
        expires_at: '2024-08-17T05:36:11Z',
        profile: {
          id: 'u1',
          email: 'user@example.com',
          first_name: 'f',
          LastLoginAt: '0001-01-01T00:00:00Z',
          tenants: [
            {
              tenant_id: 't1',
              tenant_name: 'org1',
              roles: [{ role_id: 'r1', role_name: 'Admin', permissions: null }],
              status: 'Verified',
            },
            { tenant_name: 'no id' },
          ],
        },
      },
      'magicLink.status',
    );
    expect(r.tokens).toEqual(
      expect.objectContaining({ accessToken: 'at', expiresAt: new Date('2024-08-17T05:36:11Z') }),
    );
    expect(r.profile).toMatchObject({ id: 'u1', firstName: 'f', lastLoginAt: undefined });
    expect(r.profile!.tenants).toEqual([
      { id: 't1', name: 'org1', status: 'Verified', roles: [{ id: 'r1', name: 'Admin', permissions: [] }] },
    ]);
  });

  it('accepts the nested oauth{} / user{} shape', () => {
    const r = mapAuthResult(
      {
        authenticated: true,
        oauth: {
          access_token: 'a',
          refresh_token: 'r',
          expires_at: '2023-05-18T12:28:22Z',
          token_type: 'Bearer',
        },
        user: { user_id: 'u2', identifier: 'x@example.com', updated_at: '2023-05-18T12:13:22.179Z' },
      },
      'tokens.refresh',
    );
    expect(r.tokens).toMatchObject({ accessToken: 'a', refreshToken: 'r' });
    expect(r.profile).toMatchObject({ id: 'u2', email: 'x@example.com', tenants: [] });
  });

  it('not yet authenticated, and authenticated without a token is invalid', () => {
    expect(mapAuthResult({ authenticated: false }, 'e')).toEqual({
      authenticated: false,
      profile: undefined,
    });
    expect(() => mapAuthResult({ authenticated: true }, 'e')).toThrow(EzidApiError);
    expect(() => mapAuthResult('nope', 'e')).toThrow(/invalid_response/);
  });

  it('state vs state_id, accessToken vs access_token', () => {
    expect(mapState({ state_id: 's' }, 'sms.send')).toEqual({ state: 's' });
    expect(mapState({ state: 's', state_id: 'other' }, 'sms.send')).toEqual({ state: 's' });
    expect(() => mapState({}, 'sms.send')).toThrow(EzidApiError);
    expect(mapLegacyTokens({ accessToken: 'a', refreshToken: 'r' }, 'legacy.otpVerify')).toEqual({
      accessToken: 'a',
      refreshToken: 'r',
      idToken: undefined,
    });
    expect(mapProfile({ _id: 'x' })!.id).toBe('x');
  });
});
