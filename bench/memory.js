'use strict';
// Memory scenario, in its own process (forked by bench/run.js with --expose-gc): N distinct valid
// tokens through the module's EzidTokenVerifier and EzidAuthorizer (the guards' own services, wired
// by EzidModule.forRoot in a Nest application context). A separate minting process signs them on
// worker threads and streams them in, one per line; none is stored here. Each token is verified
// twice, the worst case for memory: a token enters the verified-token cache on its second full
// verification (admission), so a token used once would leave nothing. Reports RSS / heap along the
// way and the verified-token cache size.
const { fork } = require('node:child_process');
const path = require('node:path');
const readline = require('node:readline');

/** Streams `count` freshly minted tokens from a minting process to `onToken` (awaited). */
async function mintedTokens(template, count, onToken) {
  const minter = fork(path.join(__dirname, 'lib', 'mint-process.js'), [], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const exited = new Promise((resolve, reject) =>
    minter.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`minting process exited with ${code}`)),
    ),
  );
  minter.send({ template, count });
  for await (const line of readline.createInterface({ input: minter.stdout, crlfDelay: Infinity })) {
    if (line) await onToken(line);
  }
  await exited;
}

const MB = 1024 * 1024;

function sample(verifier, done) {
  const m = process.memoryUsage();
  return { tokens: done, rssMB: m.rss / MB, heapUsedMB: m.heapUsed / MB, cacheEntries: verifier.cache.size };
}

async function main({ outDir, idp, template, count, warmToken }) {
  require('reflect-metadata');
  const { NestFactory } = require('@nestjs/core');
  const lib = require(`${outDir}/src/index.js`);
  const { VERIFIED_TOKEN_CACHE_MAX } = require(`${outDir}/src/auth/ezid-token-verifier.js`);
  const { Module } = require('@nestjs/common');
  class MemoryBenchModule {}
  Module({
    imports: [
      lib.EzidModule.forRoot({
        clientId: idp.clientId,
        clientSecret: idp.clientSecret,
        apiBaseUrl: idp.apiBaseUrl,
        callback: false,
        token: { jwksUri: idp.jwksUri, issuer: idp.issuer },
      }),
    ],
  })(MemoryBenchModule);
  const app = await NestFactory.createApplicationContext(MemoryBenchModule, { logger: ['error', 'warn'] });
  const verifier = app.get(lib.EzidTokenVerifier);
  const authorizer = app.get(lib.EzidAuthorizer);
  const requirement = { roles: ['Admin'] };
  const tenantId = template.payload.tenants[0].tenant_id;

  await verifier.verifyToken(warmToken); // keys warm
  globalThis.gc();
  globalThis.gc();
  const baseline = sample(verifier, 0);
  const samples = [baseline];
  let done = 0;
  let rejected = 0;
  let denied = 0;
  let full;
  const every = Math.max(10_000, Math.floor(count / 20));
  const t0 = Date.now();
  await mintedTokens(template, count, async (t) => {
    let v;
    try {
      for (let use = 0; use < 2; use++) {
        v = verifier.verifyToken(t);
        if (v instanceof Promise) v = await v;
      }
    } catch {
      rejected++;
      return;
    }
    if (!(await authorizer.can(v.user, tenantId, requirement))) denied++;
    done++;
    if (full === undefined && done === VERIFIED_TOKEN_CACHE_MAX) {
      globalThis.gc();
      full = sample(verifier, done);
    }
    if (done % every === 0) samples.push(sample(verifier, done));
  });
  const elapsedSec = (Date.now() - t0) / 1000;
  const end = sample(verifier, done);
  globalThis.gc();
  globalThis.gc();
  const afterGc = sample(verifier, done);
  await app.close();
  // Per entry actually held at that sample: the cache evicts a whole generation at a time
  // (BoundedCache), so "full" may hold about half of VERIFIED_TOKEN_CACHE_MAX entries.
  const perEntryBytes = full
    ? ((full.heapUsedMB - baseline.heapUsedMB) * MB) / Math.max(1, full.cacheEntries - baseline.cacheEntries)
    : null;
  return {
    count,
    verified: done,
    rejected,
    denied,
    elapsedSec,
    cacheMax: VERIFIED_TOKEN_CACHE_MAX,
    baseline,
    cacheFull: full,
    end,
    afterGc,
    perEntryBytes,
    peakRssMB: Math.max(...samples.map((s) => s.rssMB), end.rssMB),
    samples,
  };
}

process.once('message', (msg) => {
  main(msg).then(
    (result) => process.send({ result }, () => process.exit(0)),
    (err) => process.send({ error: String((err && err.stack) || err) }, () => process.exit(1)),
  );
});
process.send({ type: 'ready' });
