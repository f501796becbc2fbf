import { EZID_ENDPOINTS } from '../client/ezid-endpoints';
import { EMULATOR_HANDLERS } from './emulator-handler-table';

describe('endpoint table and emulator', () => {
  it('the emulator implements every row of the endpoint table, and nothing else', () => {
    expect(Object.keys(EMULATOR_HANDLERS).sort()).toEqual(Object.keys(EZID_ENDPOINTS).sort());
  });

  it('no two rows share method + path', () => {
    const keys = Object.values(EZID_ENDPOINTS).map((d) => `${d.method} ${d.path}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
