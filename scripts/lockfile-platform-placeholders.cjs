#!/usr/bin/env node
// The npm registry reachable from this project's machines serves native binary packages for some
// platforms only (e.g. @swc/core-linux-x64-gnu but not @swc/core-darwin-arm64). `npm install` then
// writes a lockfile without entries for the others, and `npm ci` rejects it as "out of sync".
// This script adds a placeholder entry (version, os, cpu, libc, optional) for each such optional
// platform package, exactly what npm itself records for a platform it skips. Nothing is fetched for
// them on a non-matching platform. Run it after every `npm install` that changes the lockfile:
//   node scripts/lockfile-platform-placeholders.cjs
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const lockPath = path.resolve(__dirname, '..', 'package-lock.json');
const lock = JSON.parse(fs.readFileSync(lockPath, 'utf8'));
const OS = [
  'darwin',
  'win32',
  'linux',
  'android',
  'freebsd',
  'openharmony',
  'sunos',
  'aix',
  'netbsd',
  'openbsd',
];
const CPU = {
  arm64: 'arm64',
  aarch64: 'arm64',
  x64: 'x64',
  ia32: 'ia32',
  arm: 'arm',
  ppc64: 'ppc64',
  s390x: 's390x',
  loong64: 'loong64',
  riscv64: 'riscv64',
  wasm32: 'wasm32',
};

function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = parts.find((p) => OS.includes(p));
  const cpu = parts.map((p) => CPU[p]).find(Boolean);
  if (!os || !cpu) return undefined;
  const libc = parts.some((p) => p.startsWith('musl'))
    ? 'musl'
    : parts.some((p) => p.startsWith('gnu'))
      ? 'glibc'
      : undefined;
  return { os, cpu, libc };
}

let added = 0;
for (const [loc, entry] of Object.entries(lock.packages)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies || {})) {
    const base = loc ? `${loc}/node_modules/${dep}` : `node_modules/${dep}`;
    if (lock.packages[base] || lock.packages[`node_modules/${dep}`]) continue;
    const p = platformOf(dep);
    if (!p || !/^\d+\.\d+\.\d+/.test(version)) continue;
    lock.packages[`node_modules/${dep}`] = {
      version,
      cpu: [p.cpu],
      ...(entry.dev ? { dev: true } : {}),
      ...(p.libc ? { libc: [p.libc] } : {}),
      optional: true,
      os: [p.os],
    };
    added++;
  }
}
const sorted = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
);
lock.packages = sorted;
fs.writeFileSync(lockPath, JSON.stringify(lock, null, 2) + '\n');
console.log(`lockfile: ${added} platform placeholder entr${added === 1 ? 'y' : 'ies'} added`);
