import { execFileSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const runtimeDeps = new Set([
  ...Object.keys(pkg.dependencies ?? {}),
  ...Object.keys(pkg.peerDependencies ?? {}),
]);
const allDeps = new Set([...runtimeDeps, ...Object.keys(pkg.devDependencies ?? {})]);
const builtins = new Set(builtinModules);

function walk(dir: string, out: string[] = []): string[] {
  if (!fs.existsSync(dir)) return out;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (full === path.join(root, 'test', 'consumer')) continue; // apps with their own package.json
    if (entry.isDirectory()) walk(full, out);
    else if (/\.(ts|js|mjs|cjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

/** Package names a file loads at runtime (type-only imports excluded). */
function importedPackages(file: string): string[] {
  const src = fs.readFileSync(file, 'utf8');
  const specs: string[] = [];
  const patterns = [
    /^\s*import\s+(?!type\s)(?:[\w*{}\s,]+from\s+)?['"]([^'"]+)['"]/gm,
    /^\s*export\s+(?!type\s)[\w*{}\s,]+from\s+['"]([^'"]+)['"]/gm,
    /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of src.matchAll(re)) specs.push(m[1]);
  return specs
    .filter((s) => !s.startsWith('.') && !s.startsWith('node:') && !builtins.has(s.split('/')[0]))
    .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]));
}

describe('package manifest', () => {
  it('declares every package the library imports at runtime as a dependency or peer dependency', () => {
    const missing: string[] = [];
    for (const file of walk(path.join(root, 'src')).filter((f) => !/\.spec\.ts$/.test(f))) {
      for (const name of importedPackages(file)) {
        if (name === 'nestjs-ezid') continue;
        // Optional integrations are loaded lazily and must be declared as optional peers.
        if (!runtimeDeps.has(name)) missing.push(`${path.relative(root, file)} -> ${name}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('declares every package the tests, the sample app and the benchmarks import', () => {
    const missing: string[] = [];
    const files = ['test', 'sample-app', 'bench'].flatMap((d) => walk(path.join(root, d)));
    for (const file of [...files, ...walk(path.join(root, 'src')).filter((f) => /\.spec\.ts$/.test(f))]) {
      for (const name of importedPackages(file)) {
        if (name !== 'nestjs-ezid' && !allDeps.has(name))
          missing.push(`${path.relative(root, file)} -> ${name}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('has the published shape: CommonJS main, exports map with types + default, files, engines', () => {
    expect(pkg.name).toBe('nestjs-ezid');
    expect(pkg.type).toBeUndefined();
    expect(pkg.files).toEqual(['dist', 'docs']); // docs/ so the README's relative links work from npm
    expect(pkg.exports['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
    expect(pkg.exports['./testing']).toEqual({
      types: './dist/testing/index.d.ts',
      default: './dist/testing/index.js',
    });
    // What CI proves (.ci/run on the machine's Node 20, .ci/node-versions.sh on 22 and 24); the README says so.
    expect(pkg.engines.node).toBe('^20.19.0 || ^22.12.0 || ^24.0.0');
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    expect(readme).toContain(`on Node \`${pkg.engines.node}\``);
    const ci = fs.readFileSync(path.join(root, '.ci', 'node-versions.sh'), 'utf8');
    const ciVersions = [...ci.matchAll(/^\s+"(\d+\.\d+\.\d+) sha512-/gm)].map((m) => m[1]);
    expect(ciVersions.map((v) => v.split('.')[0])).toEqual(['22', '24']);
    for (const v of ciVersions) expect(readme).toContain(v);
    for (const peer of ['@nestjs/common', '@nestjs/core', '@nestjs/passport']) {
      expect(pkg.peerDependencies[peer]).toBe('^11.0.0 || ^12.0.0');
    }
    for (const [name, version] of Object.entries<string>(pkg.devDependencies)) {
      expect(`${name}@${version}`).toMatch(/@\d+\.\d+\.\d+$/); // dev dependencies pinned exactly
    }
  });

  it('loads no optional integration peer from the package entry point (lazy require only)', () => {
    const integrationPeers = [
      '@nestjs/swagger',
      '@nestjs/terminus',
      '@nestjs/event-emitter',
      '@opentelemetry/api',
      'ioredis',
    ];
    for (const name of integrationPeers) {
      expect(pkg.peerDependenciesMeta[name]).toEqual({ optional: true });
    }
    jest.isolateModules(() => {
      for (const name of integrationPeers) {
        jest.doMock(name, () => {
          throw new Error(`${name} was loaded`);
        });
      }
      const entry = require('../../src') as Record<string, unknown>;
      for (const name of ['applyEzidOpenApi', 'EzidHealthIndicator', 'EzidContext', 'EzidModule']) {
        expect(entry[name]).toBeDefined();
      }
    });
    for (const name of integrationPeers) jest.dontMock(name);
  });

  it('keeps what only the emulator needs out of a production install: otplib and qrcode are optional peers', () => {
    for (const name of ['otplib', 'qrcode']) {
      expect(pkg.dependencies[name]).toBeUndefined();
      expect(pkg.peerDependencies[name]).toMatch(/^\^\d+\.\d+\.\d+$/);
      expect(pkg.peerDependenciesMeta[name]).toEqual({ optional: true });
      expect(pkg.devDependencies[name]).toMatch(/^\d+\.\d+\.\d+$/);
      // Loaded lazily, by the emulator only: no static import anywhere in the library.
      for (const file of walk(path.join(root, 'src')).filter((f) => !/\.spec\.ts$/.test(f))) {
        const src = fs.readFileSync(file, 'utf8');
        expect({ file, imports: new RegExp(`^import (?!type )[^;]*'${name}'`, 'm').test(src) }).toEqual({
          file,
          imports: false,
        });
      }
    }
  });

  it('packs only dist, docs, README, LICENSE and package.json (npm pack --dry-run)', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const [packed] = JSON.parse(out) as [{ files: { path: string }[] }];
    const files = packed.files.map((f) => f.path);
    const outside = files.filter((f) => !/^dist\//.test(f) && !/^docs\/[\w.-]+\.md$/.test(f));
    expect(outside.sort()).toEqual(['LICENSE', 'README.md', 'package.json']);
    // Every relative link of the README resolves inside the package.
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1]);
    const relative = links.filter((l) => !/^[a-z]+:/i.test(l));
    expect(relative.length).toBeGreaterThan(0);
    expect(relative.filter((l) => !files.includes(l))).toEqual([]);
    // No tests of the library itself; with a build present, the entry points are packed.
    expect(files.filter((f) => /\.spec\.|\/test\//.test(f))).toEqual([]);
    if (fs.existsSync(path.join(root, 'dist', 'index.js'))) {
      expect(files).toEqual(
        expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'dist/testing/index.js']),
      );
    }
  }, 60_000);

  it('ships the license the manifest declares (npm packs LICENSE with dist)', () => {
    expect(pkg.license).toBe('MIT');
    const text = fs.readFileSync(path.join(root, 'LICENSE'), 'utf8');
    expect(text.split('\n')[0]).toBe('MIT License');
    expect(text).toContain('Permission is hereby granted, free of charge');
  });

  it('resolves nestjs-ezid and nestjs-ezid/testing through the exports map of a real build', () => {
    // Outside the repo, so Node's package self-reference cannot short-circuit the lookup.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nestjs-ezid-manifest-'));
    try {
      const pkgDir = path.join(tmp, 'node_modules', 'nestjs-ezid');
      fs.mkdirSync(pkgDir, { recursive: true });
      fs.copyFileSync(path.join(root, 'package.json'), path.join(pkgDir, 'package.json'));
      execFileSync(
        process.execPath,
        [
          require.resolve('typescript/bin/tsc'),
          '-p',
          path.join(root, 'tsconfig.build.json'),
          '--outDir',
          path.join(pkgDir, 'dist'),
        ],
        { cwd: root, stdio: 'pipe' },
      );
      // src/ is not shipped: every source map carries its sources, so stack traces and debuggers work.
      const map = JSON.parse(fs.readFileSync(path.join(pkgDir, 'dist', 'index.js.map'), 'utf8')) as {
        sources: string[];
        sourcesContent?: string[];
      };
      expect(map.sourcesContent?.length).toBe(map.sources.length);
      expect(map.sourcesContent?.[0]).toContain('export');
      for (const entry of Object.values<Record<string, string>>(pkg.exports).filter(
        (e) => typeof e === 'object',
      )) {
        expect(fs.existsSync(path.join(pkgDir, entry.types))).toBe(true);
        expect(fs.existsSync(path.join(pkgDir, entry.default))).toBe(true);
      }
      const script = `
        const main = require('nestjs-ezid');
        const testing = require('nestjs-ezid/testing');
        let deep = 'exported';
        try { require('nestjs-ezid/dist/ezid.module'); } catch (e) { deep = e.code; }
        process.stdout.write(JSON.stringify({ main: Object.keys(main), testing: Object.keys(testing), deep }));`;
      const out = JSON.parse(
        execFileSync(process.execPath, ['-e', script], {
          cwd: tmp,
          encoding: 'utf8',
          env: { ...process.env, NODE_PATH: path.join(root, 'node_modules') },
        }),
      );
      expect(out.main).toEqual(
        expect.arrayContaining(['EzidModule', 'EzidConfigurationError', 'InjectEzidOptions', 'Public']),
      );
      expect(out.deep).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }, 120_000);
});
