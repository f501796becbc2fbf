'use strict';
// Compiles the library (src/**/*.ts, no specs) and the bench apps (bench/**/*.ts) to CommonJS with
// @swc/core, the same transform the jest suite uses (legacy decorators + decorator metadata), into
// a directory under os.tmpdir(). The layout mirrors the repo, so `bench/apps/x.ts` importing
// '../../src' works unchanged; a `node_modules` symlink there resolves the repo's dependencies.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');

const SWC_OPTIONS = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};

function listTs(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === 'node_modules' || entry.name === 'results') continue;
      out.push(...listTs(full));
    } else if (
      /\.ts$/.test(entry.name) &&
      !/\.(spec|e2e-spec)\.ts$/.test(entry.name) &&
      !/\.d\.ts$/.test(entry.name)
    ) {
      out.push(full);
    }
  }
  return out;
}

/** Builds into a fresh directory and returns its path. */
function build() {
  const swc = require('@swc/core');
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nestjs-ezid-bench-'));
  const files = [...listTs(path.join(ROOT, 'src')), ...listTs(path.join(ROOT, 'bench'))];
  for (const file of files) {
    const rel = path.relative(ROOT, file);
    const { code } = swc.transformFileSync(file, { ...SWC_OPTIONS, filename: file, sourceFileName: file });
    const target = path.join(outDir, rel.replace(/\.ts$/, '.js'));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, code);
  }
  // The library reads its own version from package.json (`../../package.json` from src/<area>/).
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(outDir, 'package.json'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(outDir, 'node_modules'), 'dir');
  return { outDir, files: files.length };
}

function clean(outDir) {
  if (outDir && outDir.startsWith(os.tmpdir())) fs.rmSync(outDir, { recursive: true, force: true });
}

module.exports = { build, clean, ROOT };
