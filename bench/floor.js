'use strict';
// Floor scenario, in its own process (forked by bench/run.js): distinct valid tokens through the
// module's EzidTokenVerifier.verifyToken() against the floor, i.e. what any verifier must do for
// such a token and no more: base64url-decode and JSON.parse the header and the payload, and
// crypto.verify('sha256', …) the signing input with a cached KeyObject. Same tokens, same process,
// slice by slice, each slice in chunks that alternate which path goes first; the verifier sees every
// token once (no cache hit), as in the route scenario "a different valid token per request"; then the
// last slice again (each token's second use, when the verifier caches it).
const crypto = require('node:crypto');
const fs = require('node:fs');

/** The floor for one compact RS256 token. Returns the payload (so nothing is optimised away). */
function floorVerify(token, key) {
  const d1 = token.indexOf('.');
  const d2 = token.indexOf('.', d1 + 1);
  const header = JSON.parse(Buffer.from(token.slice(0, d1), 'base64url').toString('utf8'));
  const payload = JSON.parse(Buffer.from(token.slice(d1 + 1, d2), 'base64url').toString('utf8'));
  const ok = crypto.verify(
    'sha256',
    Buffer.from(token.slice(0, d2), 'latin1'),
    key,
    Buffer.from(token.slice(d2 + 1), 'base64url'),
  );
  if (!ok || header.alg !== 'RS256') throw new Error('floor: signature invalid');
  return payload;
}

/** Adds the wall and CPU time of `fn` over `tokens[from..to)` to `acc`. */
function timeLoop(tokens, fn, acc = { ns: 0, cpuNs: 0, n: 0 }, from = 0, to = tokens.length) {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = from; i < to; i++) fn(tokens[i]);
  acc.ns += Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(cpu0);
  acc.cpuNs += (cpu.user + cpu.system) * 1000;
  acc.n += to - from;
  return acc;
}

/**
 * Both paths over the same tokens, in chunks of `chunk` tokens, alternating which goes first, so load
 * from other processes that comes and goes hits both alike. GC triggered by one path may run during
 * the other's chunk; chunks of ~1000 tokens (tens of ms) keep most of it with its own path.
 */
function interleaved(tokens, a, b, chunk) {
  const ta = { ns: 0, cpuNs: 0, n: 0 };
  const tb = { ns: 0, cpuNs: 0, n: 0 };
  for (let from = 0, k = 0; from < tokens.length; from += chunk, k++) {
    const to = Math.min(tokens.length, from + chunk);
    if (k % 2 === 0) {
      timeLoop(tokens, a, ta, from, to);
      timeLoop(tokens, b, tb, from, to);
    } else {
      timeLoop(tokens, b, tb, from, to);
      timeLoop(tokens, a, ta, from, to);
    }
  }
  const per = (t) => ({ nsPerToken: t.ns / t.n, cpuNsPerToken: t.cpuNs / t.n });
  return [per(ta), per(tb)];
}

async function main({ outDir, idp, tokensFile, kid, warm, slice, rounds, chunk, profileFile }) {
  require('reflect-metadata');
  const { NestFactory } = require('@nestjs/core');
  const { Module } = require('@nestjs/common');
  const lib = require(`${outDir}/src/index.js`);
  class FloorBenchModule {}
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
  })(FloorBenchModule);
  const app = await NestFactory.createApplicationContext(FloorBenchModule, { logger: ['error', 'warn'] });
  const verifier = app.get(lib.EzidTokenVerifier);

  // The floor's key: the JWKS entry of the minting key, parsed once into a KeyObject.
  const jwks = await (await fetch(idp.jwksUri)).json();
  const jwk = jwks.keys.find((k) => k.kid === kid);
  if (!jwk) throw new Error(`floor: kid ${kid} not in the JWKS`);
  const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });

  const all = fs.readFileSync(tokensFile, 'utf8').split('\n').filter(Boolean);
  if (all.length < warm + rounds * slice) throw new Error('floor: not enough tokens');
  let promises = 0;
  const viaVerifier = (t) => {
    const v = verifier.verifyToken(t);
    if (v instanceof Promise) {
      promises++;
      throw new Error('floor: the verifier needed a key fetch in the steady state');
    }
    return v;
  };
  const viaFloor = (t) => floorVerify(t, key);

  // Warm-up: JIT for both paths, the keys, and a verified-token cache that has filled and rotated.
  const warmTokens = all.slice(0, warm);
  timeLoop(warmTokens, viaFloor);
  timeLoop(warmTokens, viaVerifier);

  let session;
  if (profileFile) {
    const { Session } = require('node:inspector');
    session = new Session();
    session.connect();
    await new Promise((r) => session.post('Profiler.enable', () => session.post('Profiler.start', r)));
  }
  const perRound = [];
  for (let r = 0; r < rounds; r++) {
    const tokens = all.slice(warm + r * slice, warm + (r + 1) * slice);
    const [floor, ezid] = interleaved(tokens, viaFloor, viaVerifier, chunk);
    perRound.push({
      floorNs: floor.nsPerToken,
      ezidNs: ezid.nsPerToken,
      floorCpuNs: floor.cpuNsPerToken,
      ezidCpuNs: ezid.cpuNsPerToken,
      ratio: ezid.nsPerToken / floor.nsPerToken,
      cpuRatio: ezid.cpuNsPerToken / floor.cpuNsPerToken,
    });
  }
  // Second use: the last slice once more. The verifier now sees each token for the second time, which
  // is when a token enters its cache (admission): the full verification plus the cache insert (and the
  // GC of what the cache keeps). Reported beside the ratio, not instead of it.
  const lastSlice = all.slice(warm + (rounds - 1) * slice, warm + rounds * slice);
  const before = verifier.cache.size;
  const [floor2, ezid2] = interleaved(lastSlice, viaFloor, viaVerifier, chunk);
  const secondUse = {
    floorNs: floor2.nsPerToken,
    ezidNs: ezid2.nsPerToken,
    ratio: ezid2.nsPerToken / floor2.nsPerToken,
    cpuRatio: ezid2.cpuNsPerToken / floor2.cpuNsPerToken,
    cached: verifier.cache.size - before,
  };
  if (session) {
    const { profile } = await new Promise((resolve, reject) =>
      session.post('Profiler.stop', (err, res) => (err ? reject(err) : resolve(res))),
    );
    fs.writeFileSync(profileFile, JSON.stringify(profile));
    session.disconnect();
  }
  const cacheEntries = verifier.cache.size;
  await app.close();
  return { tokens: rounds * slice, warm, slice, rounds, chunk, perRound, secondUse, promises, cacheEntries };
}

process.once('message', (msg) => {
  main(msg).then(
    (result) => process.send({ result }, () => process.exit(0)),
    (err) => process.send({ error: String((err && err.stack) || err) }, () => process.exit(1)),
  );
});
process.send({ type: 'ready' });
