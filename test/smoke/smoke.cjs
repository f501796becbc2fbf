// Smoke test of the BUILT package from a plain Node CommonJS script, the way a CommonJS Nest app
// consumes it: require('nestjs-ezid') through the exports map, boot an Express app with
// EzidModule.forRoot, and check that a @Public route answers 200 and a guarded route 401.
// Usage: npm run build && node test/smoke/smoke.cjs   (run once per Nest major in .ci/run)
'use strict';
require('reflect-metadata');
const path = require('node:path');
const fs = require('node:fs');
const os = require('node:os');

// Resolve the package by name through its exports map, from outside the repo.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nestjs-ezid-smoke-'));
const root = path.resolve(__dirname, '../..');
fs.mkdirSync(path.join(tmp, 'node_modules'), { recursive: true });
fs.symlinkSync(root, path.join(tmp, 'node_modules', 'nestjs-ezid'), 'dir');
const { createRequire } = require('node:module');
const requireFromApp = createRequire(path.join(tmp, 'app.js'));

const { Controller, Get, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const ezid = requireFromApp('nestjs-ezid');
const testing = requireFromApp('nestjs-ezid/testing');
const nestVersion = require('@nestjs/core/package.json').version;

class AppController {
  health() {
    return { ok: true };
  }
  secret() {
    return { secret: true };
  }
}
Controller()(AppController);
const health = Object.getOwnPropertyDescriptor(AppController.prototype, 'health');
Get('health')(AppController.prototype, 'health', health);
ezid.Public()(AppController.prototype, 'health', health);
const secret = Object.getOwnPropertyDescriptor(AppController.prototype, 'secret');
Get('secret')(AppController.prototype, 'secret', secret);

class AppModule {}
Module({
  imports: [
    ezid.EzidModule.forRoot({
      clientId: 'cli_smoke',
      clientSecret: 'smoke-secret',
      token: { jwksUri: 'http://127.0.0.1:9/.well-known/jwks.json', issuer: 'https://ezid.smoke' },
    }),
  ],
  controllers: [AppController],
})(AppModule);

async function main() {
  const app = await NestFactory.create(AppModule, { logger: ['error'] });
  await app.listen(0, '127.0.0.1');
  const url = await app.getUrl();
  const base = url.replace('[::1]', '127.0.0.1');
  const h = await fetch(`${base}/health`);
  const s = await fetch(`${base}/secret`);
  const body = await s.json();
  await app.close();
  fs.rmSync(tmp, { recursive: true, force: true });
  const checks = [
    ['exports EzidModule', typeof ezid.EzidModule === 'function'],
    ['nestjs-ezid/testing exports EzidEmulator', typeof testing.EzidEmulator === 'function'],
    ['@Public route answers 200', h.status === 200],
    ['guarded route answers 401 without a token', s.status === 401],
    ['401 body carries code token_missing', body && body.code === 'token_missing'],
    ['401 carries WWW-Authenticate: Bearer', /^Bearer realm=/.test(s.headers.get('www-authenticate') || '')],
  ];
  let failed = 0;
  for (const [name, ok] of checks) {
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}`);
    if (!ok) failed++;
  }
  console.log(`smoke (Nest ${nestVersion}): ${checks.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
main().catch((err) => {
  console.error('smoke test crashed:', err && err.message);
  process.exit(1);
});
