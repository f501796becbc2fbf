import { EZID_ENDPOINTS, compileEndpointPath } from '../client/ezid-endpoints';
import { EMULATOR_HANDLERS } from './emulator-handler-table';
import { EMAIL_RE } from './emulator-handlers';
import { callCostMs } from '../../test/support/cost';

describe('endpoint table and emulator', () => {
  it('the emulator implements every row of the endpoint table, and nothing else', () => {
    expect(Object.keys(EMULATOR_HANDLERS).sort()).toEqual(Object.keys(EZID_ENDPOINTS).sort());
  });

  it('no two rows share method + path', () => {
    const keys = Object.values(EZID_ENDPOINTS).map((d) => `${d.method} ${d.path}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('checks an email in linear time (1 MiB of dots and no valid domain)', () => {
    const hostile = `a@a${'.a'.repeat(512 * 1024)}@`;
    let matched: boolean | undefined;
    expect(callCostMs(() => (matched = EMAIL_RE.test(hostile)), 500)).toBeLessThan(500);
    expect(matched).toBe(false);
    expect(EMAIL_RE.test('demo@example.com')).toBe(true);
  });

  it('routes only templates whose parameters are whole segments (so matching stays linear)', () => {
    expect(() => compileEndpointPath('/x/{a}-{b}')).toThrow(/whole segments/);
    expect(compileEndpointPath('/x/{a}/y')('/x/1/y')).toEqual({ a: '1' });
  });
});
