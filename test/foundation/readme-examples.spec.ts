import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');

/** Every ```ts block of the README and of docs/*.md, each as its own module. */
function examples(): { name: string; code: string }[] {
  const files = [
    'README.md',
    ...(fs.existsSync(path.join(root, 'docs'))
      ? fs
          .readdirSync(path.join(root, 'docs'))
          .filter((f) => f.endsWith('.md'))
          .map((f) => `docs/${f}`)
      : []),
  ];
  const out: { name: string; code: string }[] = [];
  for (const file of files) {
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    let i = 0;
    for (const m of text.matchAll(/```ts\n([\s\S]*?)```/g)) {
      out.push({ name: `${file.replace(/[/.]/g, '_')}_${i++}.ts`, code: m[1] });
    }
  }
  return out;
}

describe('README and docs examples', () => {
  it('has examples to check', () => {
    expect(examples().length).toBeGreaterThan(3);
  });

  it('every ```ts example compiles against the package (type-checked with tsc)', () => {
    // Inside the repo so that packages resolve from its node_modules, as they would in an app.
    const dir = fs.mkdtempSync(path.join(root, '.readme-examples-'));
    try {
      const files = examples().map(({ name, code }) => {
        const file = path.join(dir, name);
        // Each block is a module of its own; blocks that declare nothing still need `export {}`.
        fs.writeFileSync(file, `${code}\nexport {};\n`);
        return file;
      });
      const tsconfig = {
        extends: path.join(root, 'tsconfig.json'),
        compilerOptions: {
          noEmit: true,
          rootDir: '/',
          noUnusedLocals: false,
          paths: {
            'nestjs-ezid': [path.join(root, 'src/index.ts')],
            'nestjs-ezid/testing': [path.join(root, 'src/testing/index.ts')],
          },
          typeRoots: [path.join(root, 'node_modules/@types')],
          types: ['node', 'jest'],
        },
        files,
        include: [],
      };
      fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
      try {
        execFileSync(
          process.execPath,
          [require.resolve('typescript/bin/tsc'), '-p', path.join(dir, 'tsconfig.json')],
          {
            cwd: root,
            encoding: 'utf8',
            stdio: 'pipe',
          },
        );
      } catch (e) {
        const err = e as { stdout?: string; stderr?: string };
        throw new Error(`README/docs examples do not compile:\n${err.stdout ?? ''}${err.stderr ?? ''}`, {
          cause: e,
        });
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
