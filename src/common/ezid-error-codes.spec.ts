import * as fs from 'node:fs';
import * as path from 'node:path';
import { EZID_ERROR_CODES, EZID_ERROR_STATUS } from './ezid-http.exception';

/** Every non-test source file of the package, except the emulator (it speaks EZiD's API, not the module's). */
function sources(dir = path.resolve(__dirname, '..')): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'testing') out.push(...sources(full));
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) {
      out.push({
        file: path.relative(path.resolve(__dirname, '..'), full),
        text: fs.readFileSync(full, 'utf8'),
      });
    }
  }
  return out;
}

const TABLE_FILE = path.join('common', 'ezid-http.exception.ts');

describe('EZID_ERROR_STATUS: the one list of error codes', () => {
  const files = sources();

  it('holds every (status, code) an EzidHttpException is built with in src', () => {
    const found: string[] = [];
    for (const { file, text } of files) {
      for (const m of text.matchAll(/new EzidHttpException\(\s*(\d{3}),\s*'([a-z_]+)'/g)) {
        found.push(`${m[1]} ${m[2]}`);
        expect([file, m[2], EZID_ERROR_STATUS[m[2] as never]]).toEqual([file, m[2], Number(m[1])]);
      }
    }
    expect(found.length).toBeGreaterThan(20);
  });

  it('holds every token error code (401, or 400 invalid_request) and every authorization denial (403)', () => {
    for (const { file, text } of files) {
      for (const m of text.matchAll(/new EzidTokenError\(\s*'([a-z_]+)'/g)) {
        expect([file, m[1], EZID_ERROR_STATUS[m[1] as never]]).toEqual([
          file,
          m[1],
          m[1] === 'invalid_request' ? 400 : 401,
        ]);
      }
    }
    const authorizer = files.find((f) => f.file === path.join('authz', 'ezid-authorizer.ts'))!.text;
    for (const m of authorizer.matchAll(/code: '([a-z_]+)'/g))
      expect([m[1], EZID_ERROR_STATUS[m[1] as never]]).toEqual([m[1], 403]);
  });

  it('lists no code the package never emits (each appears as a literal outside the list)', () => {
    const elsewhere = files
      .filter((f) => f.file !== TABLE_FILE)
      .map((f) => f.text)
      .join('\n');
    for (const code of EZID_ERROR_CODES)
      expect([code, elsewhere.includes(`'${code}'`)]).toEqual([code, true]);
  });
});
