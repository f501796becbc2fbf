'use strict';
// Store scenario, in its own process (forked by bench/run.js): what the Redis store costs off the hot
// path, with its own emulator and real Nest apps (Express) on loopback against one redis-server.
// - refresh: POST /refresh latency with the in-memory store vs the Redis store (lock, rotation record,
//   grace, result, unlock: the Redis commands of one rotation, plus one EZiD call each), interleaved
//   request by request so machine load hits both alike;
// - propagation: how long after a logout on instance A instance B refuses the access token (B's local
//   copy, fed by pub/sub), from the logout request and from its 204; and a bare revoke() on A until B
//   has it.
const path = require('node:path');
const { randomUUID } = require('node:crypto');
const { setImmediate } = require('node:timers');

const CLIENT = { clientId: 'cli_bench_store', clientSecret: 'bench-store-secret' };

function pct(values, p) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
const summary = (ms) => ({
  n: ms.length,
  p50: +pct(ms, 50).toFixed(3),
  p90: +pct(ms, 90).toFixed(3),
  p99: +pct(ms, 99).toFixed(3),
  max: +Math.max(...ms).toFixed(3),
});
const now = () => Number(process.hrtime.bigint()) / 1e6;

async function run({ outDir, redisUrl, refreshes, propagations }) {
  const { NestFactory } = require('@nestjs/core');
  const src = require(path.join(outDir, 'src', 'index.js'));
  const { EzidEmulator } = require(path.join(outDir, 'src', 'testing', 'index.js'));
  const emu = await EzidEmulator.start({ ...CLIENT });
  const apps = [];
  async function start(store) {
    const app = await NestFactory.create(
      src.EzidModule.forRoot({
        ...CLIENT,
        apiBaseUrl: emu.url,
        token: { jwksUri: emu.jwksUri, issuer: emu.issuer },
        callback: {
          rateLimit: { limit: 1e6, ttlSec: 60 },
          sessionRateLimit: { limit: 1e6, ttlSec: 60 },
          refresh: { reuseGraceSec: 0 },
        },
        ...(store ? { store } : {}),
      }),
      { logger: ['error'] },
    );
    await app.listen(0, '127.0.0.1');
    apps.push(app);
    return { app, base: await app.getUrl() };
  }
  const post = async (t, p, body, headers = {}) => {
    const res = await fetch(`${t.base}/auth/ezid${p}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };
  const signIn = async (t) => {
    const email = 'demo@example.com';
    await post(t, '/magic-link', { email });
    const code = new URL(emu.outbox.last(email).link).searchParams.get('code');
    const r = await post(t, '/callback', { code });
    if (r.status !== 200) throw new Error(`sign-in: ${r.status}`);
    return r.json;
  };
  const revocationId = (token) => {
    const [, payload, signature] = token.split('.');
    return src.accessTokenRevocationId(
      JSON.parse(Buffer.from(payload, 'base64url').toString()),
      Buffer.from(signature, 'base64url'),
    );
  };
  const until = async (cond) => {
    while (!cond()) await new Promise((r) => setImmediate(r));
  };
  try {
    const mem = await start(undefined);
    const store = { redis: redisUrl, keyPrefix: `bench-${randomUUID()}:` };
    const a = await start(store);
    const b = await start(store);

    // Refresh: one chain per app, interleaved, the first 20 rotations as warm-up.
    const chains = [
      { t: mem, s: await signIn(mem), ms: [] },
      { t: a, s: await signIn(a), ms: [] },
    ];
    for (let i = 0; i < refreshes + 20; i++) {
      for (const c of i % 2 ? [...chains].reverse() : chains) {
        const t0 = now();
        const r = await post(c.t, '/refresh', { refreshToken: c.s.refreshToken });
        const dt = now() - t0;
        if (r.status !== 200) throw new Error(`refresh: ${r.status} ${JSON.stringify(r.json)}`);
        c.s = r.json;
        if (i >= 20) c.ms.push(dt);
      }
    }
    const refresh = { memory: summary(chains[0].ms), redis: summary(chains[1].ms) };
    refresh.redisOverheadP50Ms = +(refresh.redis.p50 - refresh.memory.p50).toFixed(3);

    // Propagation after a logout on A, seen by B's local copy.
    const listB = b.app.get(src.EzidRevocationList);
    const fromRequest = [];
    const fromResponse = [];
    for (let i = 0; i < propagations; i++) {
      const s = await signIn(a);
      const id = revocationId(s.accessToken);
      const t0 = now();
      const out = await post(
        a,
        '/logout',
        { refreshToken: s.refreshToken },
        { authorization: `Bearer ${s.accessToken}` },
      );
      const t1 = now();
      if (out.status !== 204) throw new Error(`logout: ${out.status}`);
      await until(() => listB.isRevoked(id));
      const t2 = now();
      fromRequest.push(t2 - t0);
      fromResponse.push(Math.max(0, t2 - t1));
    }
    // A bare revoke() on A until B has it (no HTTP, no EZiD).
    const listA = a.app.get(src.EzidRevocationList);
    const bare = [];
    for (let i = 0; i < propagations * 5; i++) {
      const id = `at:bench:${randomUUID()}`;
      const t0 = now();
      await listA.revoke(id, Date.now() + 600_000);
      await until(() => listB.isRevoked(id));
      bare.push(now() - t0);
    }
    return {
      refresh,
      propagation: {
        logoutFromRequest: summary(fromRequest),
        logoutFromResponse: summary(fromResponse),
        revoke: summary(bare),
      },
    };
  } finally {
    for (const app of apps) await app.close();
    await emu.stop();
  }
}

process.once('message', (msg) => {
  run(msg).then(
    (result) => process.send({ result }, () => process.exit(0)),
    (err) => process.send({ error: String((err && err.stack) || err) }, () => process.exit(1)),
  );
});
process.send({ type: 'ready' });
