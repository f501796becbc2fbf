#!/usr/bin/env node
'use strict';
// npm run bench: nestjs-ezid guard overhead against an unguarded route and against the canonical
// recipe (passport-jwt + jwks-rsa), on Express and Fastify; JWKS amplification; memory.
//
// Processes: this one (orchestration + the EZiD emulator serving the JWKS over HTTP), one load
// generator (autocannon, bench/loadgen.js), one process per app under test (bench/apps/server.ts),
// and one for the memory scenario (bench/memory.js). See bench/README.md.
const { fork } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startRedis } = require('./lib/redis-server');
const { build, clean, ROOT } = require('./lib/build');
const { mintTemplate, mintStream } = require('./lib/mint');
const { median, fmtInt, fmtMs, fmtRatio, fmtMB, table } = require('./lib/stats');

const env = process.env;
const QUICK = env.BENCH_QUICK === '1';
const num = (name, dflt) => (env[name] !== undefined && env[name] !== '' ? Number(env[name]) : dflt);
const CONFIG = {
  duration: num('BENCH_DURATION', QUICK ? 1 : 3),
  runs: num('BENCH_RUNS', QUICK ? 1 : 5),
  warmup: num('BENCH_WARMUP', QUICK ? 0.5 : 2),
  connections: num('BENCH_CONNECTIONS', 20),
  platforms: (env.BENCH_PLATFORMS || 'express,fastify').split(',').filter(Boolean),
  phases: (env.BENCH_PHASES || 'floor,routes,amplification,memory,store').split(',').filter(Boolean),
  attackRequests: num('BENCH_ATTACK_REQUESTS', QUICK ? 2000 : 10_000),
  attackConnections: num('BENCH_ATTACK_CONNECTIONS', 10),
  /** The attack stops after this many seconds even if not every request was answered. */
  attackMaxSeconds: num('BENCH_ATTACK_MAX_SECONDS', QUICK ? 30 : 90),
  legitConnections: num('BENCH_LEGIT_CONNECTIONS', 10),
  /** Seconds after the amplification apps start before the attacks (nestjs-ezid's JWKS cooldown is 30 s). */
  cooldownWait: num('BENCH_COOLDOWN_WAIT', QUICK ? 0 : 31),
  memoryTokens: num('BENCH_MEMORY_TOKENS', QUICK ? 20_000 : 1_000_000),
  /** Floor scenario: distinct tokens per measured slice, slices, and warm-up tokens (cache filled and rotated). */
  floorSlice: num('BENCH_FLOOR_SLICE', QUICK ? 2000 : 5000),
  floorRounds: num('BENCH_FLOOR_ROUNDS', QUICK ? 3 : 7),
  floorWarm: num('BENCH_FLOOR_WARM', QUICK ? 2000 : 6000),
  floorChunk: num('BENCH_FLOOR_CHUNK', 1000),
  /** Upper bound of the distinct-token request rate, to size the pre-minted token list. */
  distinctRpsCap: num('BENCH_DISTINCT_RPS_CAP', 8000),
  /** Implementations in the routes phase (default all): ezid,ezid-redis,ezid-otel,canonical,jose. */
  impls: (env.BENCH_IMPLS || 'ezid,ezid-redis,ezid-otel,canonical,jose').split(',').filter(Boolean),
  /** Store phase: sequential refreshes per store, and logouts whose propagation is timed. */
  storeRefreshes: num('BENCH_STORE_REFRESHES', QUICK ? 50 : 300),
  storePropagations: num('BENCH_STORE_PROPAGATIONS', QUICK ? 20 : 100),
  /** Route scenarios to run (default all): unguarded,uparam,noop,noop2,public,guarded,roles,permissions,distinct. */
  routes: (env.BENCH_ROUTES || '').split(',').filter(Boolean),
  /** CPU-profile the app process during each measured run (files in os.tmpdir()/nestjs-ezid-bench-profiles). */
  profile: env.BENCH_PROFILE === '1',
  /** Keep the results of phases not run this time from the previous latest.json. */
  merge: env.BENCH_MERGE === '1',
  outDir: path.resolve(env.BENCH_OUT || path.join(ROOT, 'bench', 'results')),
};

const PROFILE_DIR = path.join(os.tmpdir(), 'nestjs-ezid-bench-profiles');
const CLIENT = { clientId: 'cli_bench', clientSecret: 'bench-secret' };
const IMPLS = CONFIG.impls;
/** The redis-server of the `ezid-redis` implementation and the store phase (bench/lib/redis-server.js). */
let REDIS = null;
const IMPL_LABEL = {
  ezid: 'nestjs-ezid',
  'ezid-redis': 'nestjs-ezid, Redis store',
  'ezid-context': 'nestjs-ezid, context: true',
  'ezid-otel': 'nestjs-ezid, no-op OpenTelemetry SDK',
  canonical: 'canonical recipe',
  'canonical-library': 'canonical, jwks-rsa defaults',
  jose: 'jose recipe',
};

const log = (msg) => process.stdout.write(`${msg}\n`);

/** A forked child that answers `{ id, result | error }` messages. */
function rpcChild(file, options) {
  const child = fork(file, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], ...options });
  let next = 0;
  const pending = new Map();
  let readyResolve;
  const ready = new Promise((resolve, reject) => {
    readyResolve = resolve;
    child.once('exit', (code) =>
      reject(new Error(`${path.basename(file)} exited with ${code} before it was ready`)),
    );
  });
  child.on('message', (msg) => {
    if (msg && typeof msg.type === 'string') {
      if (msg.type === 'ready') readyResolve(msg);
      const waiter = pending.get(msg.type);
      if (waiter) {
        pending.delete(msg.type);
        waiter.resolve(msg);
      }
      return;
    }
    const waiter = msg && pending.get(msg.id);
    if (!waiter) return;
    pending.delete(msg.id);
    if (msg.error) waiter.reject(new Error(msg.error));
    else waiter.resolve(msg.result);
  });
  child.on('exit', () => {
    for (const w of pending.values()) w.reject(new Error(`${path.basename(file)} exited`));
    pending.clear();
  });
  return {
    child,
    ready,
    call(type, spec) {
      const id = ++next;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ type, id, spec });
      });
    },
    ask(type, extra = {}) {
      return new Promise((resolve, reject) => {
        pending.set(type, { resolve, reject });
        child.send({ type, ...extra });
      });
    },
    stop() {
      return new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', resolve);
        child.send({ type: 'stop' });
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      });
    },
  };
}

async function startApp(build, emu, platform, impl) {
  const app = rpcChild(path.join(build.outDir, 'bench', 'apps', 'server.js'), {
    env: {
      ...env,
      NODE_ENV: 'production',
      BENCH_PLATFORM: platform,
      BENCH_IMPL: impl,
      BENCH_CLIENT_ID: CLIENT.clientId,
      BENCH_CLIENT_SECRET: CLIENT.clientSecret,
      BENCH_API_URL: emu.url,
      BENCH_JWKS_URI: emu.jwksUri,
      BENCH_ISSUER: emu.issuer,
      ...(REDIS ? { BENCH_REDIS_URL: REDIS.url } : {}),
    },
  });
  const { port, pid } = await app.ready;
  return { ...app, platform, impl, port, pid, base: `http://127.0.0.1:${port}`, startedAt: Date.now() };
}

/** Every app must answer like this before anything is measured. */
async function sanityCheck(app, token, ids) {
  const t1 = ids.tenant1;
  const t2 = ids.tenant2;
  const cases = [
    ['/u/unguarded', null, 200],
    [`/u/orgs/${t1}/admin`, null, 200],
    ['/n1/unguarded', null, 200],
    ['/n2/unguarded', null, 200],
    ['/public', null, 200],
    ['/guarded', null, 401],
    ['/guarded', token, 200],
    [`/orgs/${t1}/admin`, token, 200],
    [`/orgs/${t2}/admin`, token, 403], // Member, not Admin, in tenant 2
    [`/orgs/${t1}/billing`, token, 200],
    [`/orgs/${t2}/billing`, token, 403],
  ];
  for (const [p, tok, expected] of cases) {
    const res = await fetch(app.base + p, { headers: tok ? { authorization: `Bearer ${tok}` } : {} });
    await res.arrayBuffer();
    if (res.status !== expected) {
      throw new Error(
        `${app.platform}/${app.impl} GET ${p}${tok ? ' (token)' : ''}: ${res.status}, expected ${expected}`,
      );
    }
  }
}

function routeScenarios(ids) {
  const roles = `/orgs/${ids.tenant1}/admin`;
  return [
    { route: 'unguarded', path: '/u/unguarded', label: 'unguarded route (no guard)' },
    {
      route: 'uparam',
      path: `/u${roles}`,
      label: "unguarded route with the @Roles route's path shape (/orgs/:tenantId/admin)",
    },
    { route: 'noop', path: '/n1/unguarded', label: 'one no-op app-wide guard (Nest pipeline only)' },
    { route: 'noop2', path: '/n2/unguarded', label: 'two no-op app-wide guards (Nest pipeline only)' },
    { route: 'public', path: '/public', label: '@Public route under the global guard' },
    { route: 'guarded', path: '/guarded', label: 'guarded route' },
    { route: 'roles', path: roles, label: 'guarded + @Roles in a resolved tenant' },
    { route: 'permissions', path: `/orgs/${ids.tenant1}/billing`, label: 'guarded + @Permissions' },
    {
      route: 'distinct',
      path: roles,
      label: 'guarded + @Roles, a different valid token per request',
      distinct: true,
    },
  ];
}

function loadavg() {
  return os.loadavg().map((x) => Math.round(x * 100) / 100);
}

async function main() {
  const startedAt = new Date();
  log(`nestjs-ezid bench: ${JSON.stringify({ ...CONFIG, outDir: path.relative(ROOT, CONFIG.outDir) })}`);
  const built = build();
  log(`compiled ${built.files} files to ${built.outDir}`);
  const { EzidEmulator, EMULATOR_IDS } = require(path.join(built.outDir, 'src', 'testing', 'index.js'));
  const emu = await EzidEmulator.start({ ...CLIENT, accessTokenTtlSec: 6 * 3600 });
  const ids = { tenant1: EMULATOR_IDS.tenant1, tenant2: EMULATOR_IDS.tenant2 };
  const token = emu.mintAccessToken(); // demo user: Admin in tenant 1, Member in tenant 2
  // Keys for the distinct-token and memory scenarios are published now, before any app fetches the JWKS.
  const templates = {
    distinct: mintTemplate(emu, built.outDir),
    memory: mintTemplate(emu, built.outDir),
    floor: mintTemplate(emu, built.outDir),
  };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nestjs-ezid-bench-data-'));
  const children = [];
  const results = {
    meta: {
      startedAt: startedAt.toISOString(),
      node: process.version,
      platform: `${os.platform()} ${os.arch()}`,
      cpu: os.cpus()[0]?.model,
      cores: os.cpus().length,
      loadavgStart: loadavg(),
      config: { ...CONFIG, outDir: path.relative(ROOT, CONFIG.outDir) },
      tokenBytes: token.length,
    },
  };
  if (IMPLS.includes('ezid-redis') || CONFIG.phases.includes('store')) {
    REDIS = await startRedis();
    if (REDIS) log(`redis-server on ${REDIS.url} (ezid-redis implementation, store phase)`);
    else {
      log('redis-server is not on PATH: the ezid-redis implementation and the store phase are skipped');
      if (IMPLS.includes('ezid-redis')) IMPLS.splice(IMPLS.indexOf('ezid-redis'), 1);
    }
  }
  try {
    const loadgen = rpcChild(path.join(__dirname, 'loadgen.js'), {});
    children.push(loadgen);
    await loadgen.ready;

    if (CONFIG.phases.includes('floor')) {
      results.floor = await floorPhase({ built, emu, tmp, templates });
    }
    if (CONFIG.phases.includes('routes')) {
      results.routes = await routesPhase({ built, emu, token, ids, tmp, loadgen, children, templates });
    }
    if (CONFIG.phases.includes('amplification')) {
      results.amplification = await amplificationPhase({ built, emu, token, ids, tmp, loadgen, children });
    }
    if (CONFIG.phases.includes('memory')) {
      results.memory = await memoryPhase({ built, emu, token, templates });
    }
    if (CONFIG.phases.includes('store') && REDIS) {
      results.store = await storePhase({ built });
    }
  } finally {
    await REDIS?.stop();
    await Promise.allSettled(children.map((c) => c.stop()));
    await emu.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
    clean(built.outDir);
  }
  if (CONFIG.merge) {
    // Keep the phases not run this time from the previous latest.json (BENCH_MERGE=1).
    const file = path.join(CONFIG.outDir, 'latest.json');
    const previous = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
    results.meta.mergedFrom = {};
    for (const phase of ['floor', 'routes', 'amplification', 'memory', 'store']) {
      if (!CONFIG.phases.includes(phase) && previous[phase]) {
        results[phase] = previous[phase];
        results.meta.mergedFrom[phase] = previous.meta?.startedAt;
      }
    }
  }
  results.meta.loadavgEnd = loadavg();
  results.meta.elapsedSec = Math.round((Date.now() - startedAt.getTime()) / 1000);
  results.targets = evaluateTargets(results);
  writeResults(results);
}

async function routesPhase({ built, emu, token, ids, tmp, loadgen, children, templates }) {
  const phaseStart = Date.now();
  const apps = [];
  for (const platform of CONFIG.platforms) {
    for (const impl of IMPLS) {
      const app = await startApp(built, emu, platform, impl);
      children.push(app);
      await sanityCheck(app, token, ids);
      apps.push(app);
    }
  }
  log(`apps up and checked: ${apps.map((a) => `${a.platform}/${a.impl}`).join(', ')}`);

  // Distinct tokens: one disjoint slice per measured run (and one for the warm-up) in each app process.
  const slice = Math.ceil(CONFIG.duration * CONFIG.distinctRpsCap);
  const warmSlice = Math.ceil(CONFIG.warmup * CONFIG.distinctRpsCap);
  const distinctCount = CONFIG.runs * slice + warmSlice;
  const tokensFile = path.join(tmp, 'distinct-tokens.txt');
  const t0 = Date.now();
  const out = fs.createWriteStream(tokensFile);
  await mintStream(templates.distinct, distinctCount, (batch) => {
    if (!out.write(`${batch.join('\n')}\n`)) return new Promise((r) => out.once('drain', r));
  });
  await new Promise((r) => out.end(r));
  log(`minted ${fmtInt(distinctCount)} distinct tokens in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const scenarios = routeScenarios(ids).filter(
    (sc) => !CONFIG.routes.length || CONFIG.routes.includes(sc.route),
  );
  const spec = (app, sc, duration, sliceIndex) => ({
    url: app.base + sc.path,
    connections: CONFIG.connections,
    duration,
    ...(sc.distinct
      ? {
          tokensFile,
          slice:
            sliceIndex < 0
              ? [CONFIG.runs * slice, distinctCount]
              : [sliceIndex * slice, (sliceIndex + 1) * slice],
        }
      : { token }),
  });

  // Warm-up: every scenario on every app (JIT, connection pools, the keys and the token cache).
  for (const app of apps) {
    for (const sc of scenarios) {
      const r = await loadgen.call('run', spec(app, sc, CONFIG.warmup, -1));
      if (r.non2xx || r.errors || r.timeouts) {
        throw new Error(
          `warm-up ${app.platform}/${app.impl}/${sc.route}: ${JSON.stringify(r.status)}, errors ${r.errors}`,
        );
      }
    }
  }
  const jwksAfterWarmup = emu.requestCount('jwks');
  log(`warm-up done (JWKS fetches so far: ${jwksAfterWarmup})`);

  // Measured runs, interleaved: each run visits every (app, scenario) once. Within a run, the two
  // implementations alternate scenario by scenario on one platform, so the figures a ratio compares
  // are measured close together; the platform order, the scenario order and which implementation
  // goes first rotate from run to run, so slow drift on the machine hits every scenario alike.
  const rotate = (list, k) => list.map((_, i) => list[(i + k) % list.length]);
  const raw = [];
  const steadyStart = Date.now();
  for (let run = 0; run < CONFIG.runs; run++) {
    const order = [];
    for (const platform of rotate(CONFIG.platforms, run)) {
      const pair = apps.filter((a) => a.platform === platform);
      for (const sc of rotate(scenarios, run)) for (const app of rotate(pair, run)) order.push({ app, sc });
    }
    for (const { app, sc } of order) {
      const before = emu.requestCount('jwks');
      if (CONFIG.profile) await app.ask('profile-start');
      const cpuBefore = await app.ask('cpu');
      const r = await loadgen.call('run', spec(app, sc, CONFIG.duration, run));
      // CPU time the app process spent per answered request: its intrinsic cost, far less
      // sensitive than throughput to other processes competing for the cores. The user-mode part
      // leaves out the kernel's socket work (a write that must wake the load generator costs more).
      const cpuAfter = await app.ask('cpu');
      r.cpuPerReqUs = (cpuAfter.micros - cpuBefore.micros) / Math.max(1, r.total);
      r.userCpuPerReqUs = (cpuAfter.userMicros - cpuBefore.userMicros) / Math.max(1, r.total);
      if (CONFIG.profile) {
        fs.mkdirSync(PROFILE_DIR, { recursive: true });
        await app.ask('profile-stop', {
          file: path.join(PROFILE_DIR, `${app.platform}-${app.impl}-${sc.route}-run${run + 1}.cpuprofile`),
        });
      }
      const jwksFetches = emu.requestCount('jwks') - before;
      const valid = r.non2xx === 0 && r.errors === 0 && r.timeouts === 0;
      raw.push({ run, platform: app.platform, impl: app.impl, route: sc.route, jwksFetches, valid, ...r });
      log(
        `run ${run + 1}/${CONFIG.runs} ${app.platform}/${app.impl}/${sc.route}: ${fmtInt(r.rps)} req/s p50 ${fmtMs(r.p50)} p99 ${fmtMs(r.p99)}, ${fmtInt(r.cpuPerReqUs)} µs CPU/req (${fmtInt(r.userCpuPerReqUs)} user)` +
          `${valid ? '' : ` INVALID (${JSON.stringify(r.status)}, errors ${r.errors}, timeouts ${r.timeouts})`}` +
          `${r.wrapped ? ` (token list wrapped ${r.wrapped}×)` : ''}${jwksFetches ? ` JWKS fetches: ${jwksFetches}` : ''}`,
      );
    }
  }
  const steadySec = (Date.now() - steadyStart) / 1000;

  const rss = {};
  for (const app of apps) rss[`${app.platform}/${app.impl}`] = (await app.ask('stats')).rss / (1024 * 1024);

  const medians = {};
  for (const app of apps) {
    for (const sc of scenarios) {
      const rows = raw.filter(
        (x) => x.platform === app.platform && x.impl === app.impl && x.route === sc.route,
      );
      medians[`${app.platform}/${app.impl}/${sc.route}`] = {
        platform: app.platform,
        impl: app.impl,
        route: sc.route,
        label: sc.label,
        rps: median(rows.map((x) => x.rps)),
        p50: median(rows.map((x) => x.p50)),
        p99: median(rows.map((x) => x.p99)),
        cpuPerReqUs: median(rows.map((x) => x.cpuPerReqUs)),
        userCpuPerReqUs: median(rows.map((x) => x.userCpuPerReqUs)),
        runs: rows.length,
        allValid: rows.every((x) => x.valid),
        jwksFetches: rows.reduce((s, x) => s + x.jwksFetches, 0),
        wrapped: rows.reduce((s, x) => s + (x.wrapped || 0), 0),
      };
    }
  }
  // Ratios of two figures of the same run (measured a minute apart at most), then their median.
  const pairedRatios = {};
  for (const platform of CONFIG.platforms) {
    const pairs = {
      rolesVsUnguarded: ['ezid', 'roles', 'ezid', 'unguarded'],
      rolesVsUnguardedParam: ['ezid', 'roles', 'ezid', 'uparam'],
      uparamVsUnguarded: ['ezid', 'uparam', 'ezid', 'unguarded'],
      guardedVsUnguarded: ['ezid', 'guarded', 'ezid', 'unguarded'],
      redisVsMemory: ['ezid-redis', 'roles', 'ezid', 'roles'],
      contextVsOff: ['ezid-context', 'roles', 'ezid', 'roles'],
      otelRolesVsPlain: ['ezid-otel', 'roles', 'ezid', 'roles'],
      otelGuardedVsPlain: ['ezid-otel', 'guarded', 'ezid', 'guarded'],
      rolesVsCanonical: ['ezid', 'roles', 'canonical', 'roles'],
      distinctVsCanonical: ['ezid', 'distinct', 'canonical', 'distinct'],
      canonicalGuardedVsPublic: ['canonical', 'guarded', 'canonical', 'public'],
      noopVsUnguarded: ['ezid', 'noop', 'ezid', 'unguarded'],
      noop2VsUnguarded: ['ezid', 'noop2', 'ezid', 'unguarded'],
      rolesVsNoop2: ['ezid', 'roles', 'ezid', 'noop2'],
      rolesVsJose: ['ezid', 'roles', 'jose', 'roles'],
      distinctVsJose: ['ezid', 'distinct', 'jose', 'distinct'],
      joseRolesVsCanonical: ['jose', 'roles', 'canonical', 'roles'],
      joseRolesVsUnguarded: ['jose', 'roles', 'jose', 'unguarded'],
    };
    for (const [name, [ia, ra, ib, rb]] of Object.entries(pairs)) {
      const perRun = ratiosPerRun(raw, platform, 'rps', [ia, ra], [ib, rb]);
      // The same comparison from CPU time per request (b's cost over a's: the throughput ratio an
      // app would reach on a core of its own), and from its user-mode part.
      const perRunCpu = ratiosPerRun(raw, platform, 'cpuPerReqUs', [ib, rb], [ia, ra]);
      const perRunUser = ratiosPerRun(raw, platform, 'userCpuPerReqUs', [ib, rb], [ia, ra]);
      if (perRun.length) {
        pairedRatios[`${platform}/${name}`] = {
          median: median(perRun),
          perRun,
          cpuMedian: median(perRunCpu),
          cpuPerRun: perRunCpu,
          userCpuMedian: median(perRunUser),
          userCpuPerRun: perRunUser,
        };
      }
    }
  }
  for (const app of apps) await app.stop();
  return {
    pairedRatios,
    distinctTokens: { minted: distinctCount, perRunSlice: slice },
    jwksFetchesDuringWarmup: jwksAfterWarmup,
    steadyStateSec: Math.round(steadySec),
    appLifetimeSec: Math.round((Date.now() - phaseStart) / 1000),
    rssAfterMB: rss,
    medians,
    raw,
  };
}

/** A token with the claims of `token` and a random unknown `kid` (the signature is irrelevant: no key). */
function withRandomKid(token) {
  const [h, p, s] = token.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
  header.kid = crypto.randomBytes(12).toString('hex');
  return `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${p}.${s}`;
}

async function amplificationPhase({ built, emu, token, ids, tmp, loadgen, children }) {
  const attackFile = path.join(tmp, 'unknown-kid-tokens.txt');
  const bad = [];
  for (let i = 0; i < CONFIG.attackRequests; i++) bad.push(withRandomKid(token));
  fs.writeFileSync(attackFile, `${bad.join('\n')}\n`);
  const out = [];
  const legitPath = `/orgs/${ids.tenant1}/admin`;
  const apps = [];
  for (const impl of ['ezid', 'canonical', 'canonical-library']) {
    const app = await startApp(built, emu, 'express', impl);
    children.push(app);
    await sanityCheck(app, token, ids);
    await loadgen.call('run', {
      url: app.base + legitPath,
      connections: CONFIG.legitConnections,
      token,
      duration: CONFIG.warmup,
    });
    apps.push(app);
  }
  // Measure as deployed: the last JWKS fetch (at start-up) is older than our 30 s cooldown, so the
  // first unknown kid may trigger one fetch, and the concurrent ones must share it.
  const idleMs = CONFIG.cooldownWait * 1000 - (Date.now() - apps[0].startedAt);
  if (idleMs > 0) {
    log(
      `amplification: waiting ${Math.ceil(idleMs / 1000)} s so the JWKS cooldown of the fresh apps has passed`,
    );
    await new Promise((r) => setTimeout(r, idleMs));
  }
  for (const app of apps) {
    const impl = app.impl;
    const legitSpec = { url: app.base + legitPath, connections: CONFIG.legitConnections, token };
    // Reference: the same legitimate traffic with no attack.
    const quiet = await loadgen.call('run', { ...legitSpec, duration: Math.max(2, CONFIG.duration) });
    const before = emu.requestCount('jwks');
    const r = await loadgen.call('attack', {
      legit: legitSpec,
      attack: {
        url: app.base + legitPath,
        connections: CONFIG.attackConnections,
        amount: CONFIG.attackRequests,
        tokensFile: attackFile,
        maxSeconds: CONFIG.attackMaxSeconds,
        timeoutSec: 10,
      },
    });
    const fetches = emu.requestCount('jwks') - before;
    const row = {
      impl,
      label: IMPL_LABEL[impl],
      attackRequests: CONFIG.attackRequests,
      attackElapsedSec: r.attack.elapsedMs / 1000,
      attackStatus: r.attack.status,
      attackAnswered: r.attack.total,
      attackTimeouts: r.attack.timeouts,
      attackErrors: r.attack.errors,
      attackCutOff: r.attack.cutOff,
      jwksFetches: fetches,
      legitAlone: { rps: quiet.rps, p50: quiet.p50, p99: quiet.p99 },
      legitUnderAttack: {
        rps: r.legit.rps,
        p50: r.legit.p50,
        p99: r.legit.p99,
        non2xx: r.legit.non2xx,
        status: r.legit.status,
      },
    };
    out.push(row);
    log(
      `amplification ${impl}: ${fmtInt(fetches)} JWKS fetches for ${fmtInt(CONFIG.attackRequests)} unknown kids in ${row.attackElapsedSec.toFixed(1)} s; ` +
        `attack answers ${JSON.stringify(r.attack.status)}, ${r.attack.timeouts} timeouts${r.attack.cutOff ? ' (cut off)' : ''}; legit p99 ${fmtMs(quiet.p99)} alone, ${fmtMs(r.legit.p99)} under attack ` +
        `(${fmtInt(r.legit.non2xx)} non-2xx)`,
    );
    await app.stop();
  }
  return out;
}

/** `field` of (implA, routeA) over `field` of (implB, routeB), run by run, for the runs that have both. */
function ratiosPerRun(raw, platform, field, [implA, routeA], [implB, routeB]) {
  const value = (run, impl, route) =>
    raw.find((x) => x.run === run && x.platform === platform && x.impl === impl && x.route === route)?.[
      field
    ];
  const out = [];
  for (let run = 0; run < CONFIG.runs; run++) {
    const a = value(run, implA, routeA);
    const b = value(run, implB, routeB);
    if (a !== undefined && b !== undefined) out.push(a / b);
  }
  return out;
}

/** Distinct tokens through EzidTokenVerifier.verifyToken against the floor, in one process (bench/floor.js). */
async function floorPhase({ built, emu, tmp, templates }) {
  const template = templates.floor;
  const count = CONFIG.floorWarm + CONFIG.floorRounds * CONFIG.floorSlice;
  const tokensFile = path.join(tmp, 'floor-tokens.txt');
  const t0 = Date.now();
  const out = fs.createWriteStream(tokensFile);
  await mintStream(template, count, (batch) => {
    if (!out.write(`${batch.join('\n')}\n`)) return new Promise((r) => out.once('drain', r));
  });
  await new Promise((r) => out.end(r));
  log(`floor: minted ${fmtInt(count)} distinct tokens in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const child = rpcChild(path.join(__dirname, 'floor.js'), {});
  await child.ready;
  const jwksBefore = emu.requestCount('jwks');
  let profileFile;
  if (CONFIG.profile) {
    fs.mkdirSync(PROFILE_DIR, { recursive: true });
    profileFile = path.join(PROFILE_DIR, 'floor.cpuprofile');
  }
  const result = await new Promise((resolve, reject) => {
    child.child.on('message', (msg) => {
      if (msg && msg.result) resolve(msg.result);
      else if (msg && msg.error) reject(new Error(msg.error));
    });
    child.child.on('exit', (code) => code !== 0 && reject(new Error(`floor scenario exited with ${code}`)));
    child.child.send({
      outDir: built.outDir,
      idp: { ...CLIENT, apiBaseUrl: emu.url, jwksUri: emu.jwksUri, issuer: emu.issuer },
      tokensFile,
      kid: template.header.kid,
      warm: CONFIG.floorWarm,
      slice: CONFIG.floorSlice,
      rounds: CONFIG.floorRounds,
      chunk: CONFIG.floorChunk,
      profileFile,
    });
  });
  // One fetch at start-up (the app context's bootstrap); none while measuring.
  result.jwksFetches = emu.requestCount('jwks') - jwksBefore;
  const rows = result.perRound;
  result.ratio = median(rows.map((x) => x.ratio));
  result.cpuRatio = median(rows.map((x) => x.cpuRatio));
  result.floorNs = median(rows.map((x) => x.floorNs));
  result.ezidNs = median(rows.map((x) => x.ezidNs));
  log(
    `floor: EzidTokenVerifier ${(result.ezidNs / 1000).toFixed(1)} µs/token, floor ${(result.floorNs / 1000).toFixed(1)} µs/token: ` +
      `${fmtRatio(result.ratio)} (per slice ${rows.map((x) => x.ratio.toFixed(3)).join(', ')}); JWKS fetches ${result.jwksFetches}` +
      `${profileFile ? `; profile ${profileFile}` : ''}`,
  );
  const su = result.secondUse;
  log(
    `floor, second use of the last slice (verified and cached): EzidTokenVerifier ${(su.ezidNs / 1000).toFixed(1)} µs/token, ` +
      `floor ${(su.floorNs / 1000).toFixed(1)} µs/token: ${fmtRatio(su.ratio)}; ${fmtInt(su.cached)} tokens cached`,
  );
  return result;
}

/** The Redis store off the hot path, in its own process (bench/store.js): refresh cost and revocation propagation. */
async function storePhase({ built }) {
  const child = rpcChild(path.join(__dirname, 'store.js'), {});
  await child.ready;
  log(`store: ${CONFIG.storeRefreshes} refreshes per store, ${CONFIG.storePropagations} logouts timed...`);
  const result = await new Promise((resolve, reject) => {
    child.child.on('message', (msg) => {
      if (msg && msg.result) resolve(msg.result);
      else if (msg && msg.error) reject(new Error(msg.error));
    });
    child.child.on('exit', (code) => code !== 0 && reject(new Error(`store scenario exited with ${code}`)));
    child.child.send({
      outDir: built.outDir,
      redisUrl: REDIS.url,
      refreshes: CONFIG.storeRefreshes,
      propagations: CONFIG.storePropagations,
    });
  });
  const r = result.refresh;
  const p = result.propagation;
  log(
    `store: POST /refresh p50 ${r.memory.p50} ms (memory) vs ${r.redis.p50} ms (Redis), +${r.redisOverheadP50Ms} ms; ` +
      `propagation p50 ${p.logoutFromRequest.p50} ms from the logout request, ${p.logoutFromResponse.p50} ms after its 204; ` +
      `bare revoke() p50 ${p.revoke.p50} ms, p99 ${p.revoke.p99} ms`,
  );
  return result;
}

async function memoryPhase({ built, emu, token, templates }) {
  const child = rpcChild(path.join(__dirname, 'memory.js'), { execArgv: ['--expose-gc'] });
  await child.ready;
  const template = templates.memory;
  log(`memory: ${fmtInt(CONFIG.memoryTokens)} distinct tokens through EzidTokenVerifier + EzidAuthorizer...`);
  const result = await new Promise((resolve, reject) => {
    child.child.on('message', (msg) => {
      if (msg && msg.result) resolve(msg.result);
      else if (msg && msg.error) reject(new Error(msg.error));
    });
    child.child.on('exit', (code) => code !== 0 && reject(new Error(`memory scenario exited with ${code}`)));
    child.child.send({
      outDir: built.outDir,
      idp: { ...CLIENT, apiBaseUrl: emu.url, jwksUri: emu.jwksUri, issuer: emu.issuer },
      template,
      count: CONFIG.memoryTokens,
      warmToken: token,
    });
  });
  log(
    `memory: RSS ${fmtMB(result.baseline.rssMB)} before, ${fmtMB(result.cacheFull?.rssMB)} with the cache full, ` +
      `${fmtMB(result.end.rssMB)} after ${fmtInt(result.verified)} tokens (${fmtMB(result.afterGc.rssMB)} after GC); ` +
      `cache ${fmtInt(result.end.cacheEntries)}/${fmtInt(result.cacheMax)} entries, ~${fmtInt(result.perEntryBytes)} B each`,
  );
  return result;
}

function evaluateTargets(results) {
  const targets = [];
  const m = results.routes?.medians;
  if (m) {
    for (const platform of CONFIG.platforms) {
      const g = (impl, route) => m[`${platform}/${impl}/${route}`];
      const add = (name, value, target, pass, detail) =>
        targets.push({ platform, name, value, target, pass, detail });
      const paired = (name) => results.routes.pairedRatios[`${platform}/${name}`];
      const ofMedians = (a, b) => (g(...a) && g(...b) ? g(...a).rps / g(...b).rps : NaN);
      const detail = (p, a, b) =>
        `per run ${p.perRun.map((x) => x.toFixed(2)).join(', ')}; ratio of the medians ${fmtRatio(ofMedians(a, b))}`;
      const check = (pairName, name, a, b, min) => {
        const p = paired(pairName);
        if (!p) return;
        add(name, p.median, `≥ ${min}×`, p.median >= min, detail(p, a, b));
        targets[targets.length - 1].cpu = {
          value: p.cpuMedian,
          pass: p.cpuMedian >= min,
          perRun: p.cpuPerRun,
        };
      };
      check(
        'rolesVsUnguarded',
        'guarded + roles vs unguarded (token reused)',
        ['ezid', 'roles'],
        ['ezid', 'unguarded'],
        0.9,
      );
      check(
        'redisVsMemory',
        'guarded + roles, Redis store vs in-memory store (token reused)',
        ['ezid-redis', 'roles'],
        ['ezid', 'roles'],
        0.97,
      );
      check(
        'otelRolesVsPlain',
        'guarded + roles, no-op OpenTelemetry SDK registered vs none (token reused)',
        ['ezid-otel', 'roles'],
        ['ezid', 'roles'],
        0.97,
      );
      check(
        'otelGuardedVsPlain',
        'guarded, no-op OpenTelemetry SDK registered vs none (token reused)',
        ['ezid-otel', 'guarded'],
        ['ezid', 'guarded'],
        0.97,
      );
      check(
        'rolesVsCanonical',
        'guarded + roles vs canonical recipe (token reused)',
        ['ezid', 'roles'],
        ['canonical', 'roles'],
        2,
      );
      check(
        'distinctVsCanonical',
        'distinct tokens vs canonical recipe',
        ['ezid', 'distinct'],
        ['canonical', 'distinct'],
        1.3,
      );
      const fetches = Object.values(m)
        .filter((x) => x.platform === platform && x.impl === 'ezid')
        .reduce((s, x) => s + x.jwksFetches, 0);
      // None per request; the key set's scheduled refresh (token.jwks cache age, 600 s by default,
      // stale-while-revalidate) may happen once per 600 s of the app's life.
      const refreshes = Math.floor((results.routes.appLifetimeSec ?? 0) / 600);
      add(
        'JWKS fetches in the steady state (nestjs-ezid)',
        fetches,
        refreshes ? `≤ ${refreshes} (scheduled refresh, 600 s cache)` : '0',
        fetches <= refreshes,
        `${results.routes.steadyStateSec} s of measured load (all platforms)`,
      );
    }
  }
  const st = results.store;
  if (st) {
    targets.push({
      platform: 'express',
      name: 'revocation propagation: logout on instance A until instance B refuses the token (p50, from the logout request)',
      value: st.propagation.logoutFromRequest.p50,
      target: '< 100 ms',
      pass: st.propagation.logoutFromRequest.p50 < 100,
      unit: 'ms',
      detail: `p90 ${st.propagation.logoutFromRequest.p90} ms, p99 ${st.propagation.logoutFromRequest.p99} ms; after the 204: p50 ${st.propagation.logoutFromResponse.p50} ms, p99 ${st.propagation.logoutFromResponse.p99} ms`,
    });
  }
  const fl = results.floor;
  if (fl) {
    targets.push({
      platform: 'in-process',
      name: 'distinct tokens: EzidTokenVerifier.verifyToken vs the floor (decode + JSON.parse + crypto.verify)',
      value: fl.ratio,
      target: '≤ 1.15×',
      pass: fl.ratio <= 1.15,
      detail:
        `per slice ${fl.perRound.map((x) => x.ratio.toFixed(3)).join(', ')}; from CPU time ${fmtRatio(fl.cpuRatio)}` +
        (fl.secondUse ? `; a token's second use (verified and cached): ${fmtRatio(fl.secondUse.ratio)}` : ''),
    });
  }
  const amp = results.amplification?.find((x) => x.impl === 'ezid');
  if (amp) {
    const windows = Math.floor(amp.attackElapsedSec / 30) + 1;
    targets.push({
      platform: 'express',
      name: `JWKS fetches for ${fmtInt(amp.attackRequests)} unknown kids (nestjs-ezid)`,
      value: amp.jwksFetches,
      target: `≤ 1 per 30 s cooldown (≤ ${windows})`,
      pass: amp.jwksFetches <= windows,
    });
  }
  return targets;
}

function formatValue(t) {
  if (t.unit === 'ms') return `${t.value} ms`;
  return typeof t.value === 'number' && !Number.isInteger(t.value) ? fmtRatio(t.value) : String(t.value);
}

function writeResults(results) {
  const md = [];
  const meta = results.meta;
  md.push('# nestjs-ezid bench: latest run');
  md.push('');
  md.push(
    `${meta.startedAt}, Node ${meta.node}, ${meta.platform}, ${meta.cores} × ${meta.cpu}; load average ${meta.loadavgStart.join(' / ')} at the start, ` +
      `${meta.loadavgEnd.join(' / ')} at the end; ${meta.elapsedSec} s in all.`,
  );
  const c = meta.config;
  md.push(
    `autocannon -c ${c.connections}, ${c.duration} s per run, ${c.runs} run(s) per scenario (median shown), ${c.warmup} s warm-up, ` +
      `scenarios interleaved. Access token ${meta.tokenBytes} bytes, sent on every route (also to the unguarded and @Public ones).`,
  );
  if (meta.mergedFrom && Object.keys(meta.mergedFrom).length) {
    md.push(
      `Phases carried over from an earlier run (BENCH_MERGE=1): ${Object.entries(meta.mergedFrom)
        .map(([k, v]) => `${k} (${v})`)
        .join(', ')}.`,
    );
  }
  md.push('');
  if (results.targets?.length) {
    md.push('## Targets');
    md.push('');
    md.push(
      table(
        [
          'platform',
          'measure',
          'target',
          'throughput ratio',
          'result',
          'from CPU time per request',
          'result',
          'detail',
        ],
        results.targets.map((t) => [
          t.platform,
          t.name,
          t.target,
          formatValue(t),
          t.pass ? 'PASS' : '**MISS**',
          t.cpu ? fmtRatio(t.cpu.value) : '',
          t.cpu ? (t.cpu.pass ? 'PASS' : '**MISS**') : '',
          t.detail ?? '',
        ]),
      ),
    );
    md.push('');
  }
  if (results.store) {
    const st = results.store;
    const row = (name, x) => [name, String(x.n), String(x.p50), String(x.p90), String(x.p99), String(x.max)];
    md.push('## Shared store (Redis): off the hot path');
    md.push('');
    md.push(
      'Real Nest apps (Express) and their own emulator in one process, one redis-server on loopback (bench/store.js). ' +
        'Refresh: sequential `POST /refresh` on a chain of rotations, the in-memory and the Redis app interleaved request by request ' +
        "(each includes one EZiD call to the emulator). Propagation: after `POST /logout` on instance A, until instance B's local " +
        'revocation copy refuses the access token; and a bare `revoke()` on A until B has it. Milliseconds.',
    );
    md.push('');
    md.push(
      table(
        ['measure', 'n', 'p50', 'p90', 'p99', 'max'],
        [
          row('POST /refresh, in-memory store', st.refresh.memory),
          row('POST /refresh, Redis store', st.refresh.redis),
          row('logout on A → B refuses (from the request)', st.propagation.logoutFromRequest),
          row('logout on A → B refuses (after the 204)', st.propagation.logoutFromResponse),
          row('revoke() on A → B has it', st.propagation.revoke),
        ],
      ),
    );
    md.push('');
  }
  if (results.floor) {
    const f = results.floor;
    md.push('## Floor: distinct tokens in one process');
    md.push('');
    md.push(
      `${fmtInt(f.tokens)} distinct valid tokens (${f.rounds} slices of ${fmtInt(f.slice)}, after ${fmtInt(f.warm)} warm-up tokens), ` +
        `each verified once by EzidTokenVerifier.verifyToken (module wired by EzidModule.forRoot, JWKS key source) and once by the floor ` +
        `(base64url-decode + JSON.parse of header and payload, crypto.verify('sha256', …) with a cached KeyObject), slice by slice, ` +
        `in chunks of ${fmtInt(f.chunk)} tokens alternating which goes first. JWKS fetches: ${f.jwksFetches} (the module's start-up and the floor's own read of the JWKS; a verification that needed a fetch would have aborted the scenario); verified-token cache ${fmtInt(f.cacheEntries)} entries at the end.`,
    );
    md.push('');
    md.push(
      table(
        ['slice', 'floor µs/token', 'EzidTokenVerifier µs/token', 'ratio', 'ratio from CPU time'],
        f.perRound
          .map((x, i) => [
            String(i + 1),
            (x.floorNs / 1000).toFixed(1),
            (x.ezidNs / 1000).toFixed(1),
            fmtRatio(x.ratio),
            fmtRatio(x.cpuRatio),
          ])
          .concat([
            [
              '**median**',
              (f.floorNs / 1000).toFixed(1),
              (f.ezidNs / 1000).toFixed(1),
              `**${fmtRatio(f.ratio)}**`,
              fmtRatio(f.cpuRatio),
            ],
          ])
          .concat(
            f.secondUse
              ? [
                  [
                    "last slice again: each token's second use, verified and cached (admission)",
                    (f.secondUse.floorNs / 1000).toFixed(1),
                    (f.secondUse.ezidNs / 1000).toFixed(1),
                    fmtRatio(f.secondUse.ratio),
                    fmtRatio(f.secondUse.cpuRatio),
                  ],
                ]
              : [],
          ),
      ),
    );
    md.push('');
    md.push(
      'A token enters the verified-token cache on its second full verification, so the slices above (first ' +
        'uses) measure verification alone; the last row is what a token in use pays once more, when it is cached.',
    );
    md.push('');
  }
  if (results.routes) {
    const m = results.routes.medians;
    for (const platform of c.platforms) {
      md.push(`## Routes: ${platform}`);
      md.push('');
      const rows = [];
      const impls = c.impls ?? ['ezid', 'canonical'];
      const others = impls.filter((i) => i !== 'ezid');
      const ROUTES = [
        'unguarded',
        'uparam',
        'noop',
        'noop2',
        'public',
        'guarded',
        'roles',
        'permissions',
        'distinct',
      ];
      for (const route of ROUTES) {
        const cells = impls.map((impl) => m[`${platform}/${impl}/${route}`]);
        if (cells.every((x) => !x)) continue;
        const flag = (x) => (x.allValid ? '' : ' ⚠') + (x.wrapped ? ' (wrapped)' : '');
        const row = [cells.find(Boolean).label];
        impls.forEach((impl, i) => {
          const x = cells[i];
          const u = m[`${platform}/${impl}/unguarded`] ?? { rps: NaN };
          row.push(
            x ? `${fmtInt(x.rps)}${flag(x)}` : '',
            x ? `${fmtMs(x.p50)} / ${fmtMs(x.p99)}` : '',
            x ? `${fmtInt(x.cpuPerReqUs)} µs` : '',
            x ? fmtRatio(x.rps / u.rps) : '',
          );
        });
        const o = m[`${platform}/ezid/${route}`];
        for (const other of others) {
          const k = m[`${platform}/${other}/${route}`];
          row.push(o && k ? fmtRatio(o.rps / k.rps) : '');
        }
        rows.push(row);
      }
      const kg = m[`${platform}/canonical/guarded`];
      const kp = m[`${platform}/canonical/public`];
      if (kg && kp) {
        md.push(
          `For scale: the canonical recipe's guarded route ran at ${fmtRatio(kg.rps / kp.rps)} the throughput of its @Public route ` +
            `(${fmtInt(kg.rps)} vs ${fmtInt(kp.rps)} req/s).`,
        );
        md.push('');
      }
      md.push(
        table(
          [
            'route',
            ...impls.flatMap((impl) => [
              `${IMPL_LABEL[impl]} req/s`,
              'p50 / p99',
              'CPU / req',
              'vs unguarded',
            ]),
            ...others.map((other) => `ezid / ${other}`),
          ],
          rows,
        ),
      );
      const paired = Object.entries(results.routes.pairedRatios).filter(([k]) =>
        k.startsWith(`${platform}/`),
      );
      if (paired.length) {
        md.push('');
        md.push(
          "Paired ratios (throughput; each run's two figures measured seconds apart, then the median of the runs):",
        );
        md.push('');
        md.push(
          table(
            ['pair', 'median', 'per run', 'from CPU time per request', 'from user-mode CPU time'],
            paired.map(([k, p]) => [
              k.slice(platform.length + 1),
              fmtRatio(p.median),
              p.perRun.map((x) => x.toFixed(2)).join(', '),
              fmtRatio(p.cpuMedian),
              p.userCpuMedian === undefined ? '' : fmtRatio(p.userCpuMedian),
            ]),
          ),
        );
      }
      md.push('');
    }
    md.push(
      `JWKS fetches: ${results.routes.jwksFetchesDuringWarmup} during start-up and warm-up (one per app process), ` +
        `${Object.values(m).reduce((s, x) => s + x.jwksFetches, 0)} during ${results.routes.steadyStateSec} s of measured load. ` +
        `Distinct tokens: ${fmtInt(results.routes.distinctTokens.minted)} minted, a fresh slice of ${fmtInt(results.routes.distinctTokens.perRunSlice)} per run.`,
    );
    md.push('');
    md.push(
      `RSS of the app processes after the runs: ${Object.entries(results.routes.rssAfterMB)
        .map(([k, v]) => `${k} ${fmtMB(v)}`)
        .join(', ')}.`,
    );
    md.push('');
  }
  if (results.amplification) {
    md.push('## JWKS amplification (Express)');
    md.push('');
    md.push(
      table(
        [
          'implementation',
          'unknown-kid requests',
          'JWKS fetches',
          'attack answered',
          'legit req/s alone / under attack',
          'legit p99 alone / under attack',
        ],
        results.amplification.map((a) => [
          a.label,
          `${fmtInt(a.attackRequests)} sent, ${a.attackElapsedSec.toFixed(1)} s${a.attackCutOff ? ' (stopped at the time limit)' : ''}`,
          fmtInt(a.jwksFetches),
          [
            ...Object.entries(a.attackStatus).map(([s, n]) => `${s} × ${fmtInt(n)}`),
            ...(a.attackTimeouts ? [`**${fmtInt(a.attackTimeouts)} timed out (10 s)**`] : []),
            ...(a.attackErrors - a.attackTimeouts > 0
              ? [`${fmtInt(a.attackErrors - a.attackTimeouts)} socket errors`]
              : []),
          ].join(', '),
          `${fmtInt(a.legitAlone.rps)} / ${fmtInt(a.legitUnderAttack.rps)}`,
          `${fmtMs(a.legitAlone.p99)} / ${fmtMs(a.legitUnderAttack.p99)}${a.legitUnderAttack.non2xx ? ` (${fmtInt(a.legitUnderAttack.non2xx)} non-2xx)` : ''}`,
        ]),
      ),
    );
    md.push('');
  }
  if (results.memory) {
    const r = results.memory;
    md.push('## Memory');
    md.push('');
    md.push(
      `${fmtInt(r.verified)} distinct valid tokens through EzidTokenVerifier + EzidAuthorizer (${fmtInt(r.rejected)} rejected, ` +
        `${fmtInt(r.denied)} denied) in ${r.elapsedSec.toFixed(0)} s, minted by a separate process (worker threads) and streamed in as they were verified.`,
    );
    md.push('');
    md.push(
      table(
        ['tokens', 'RSS', 'heap used', 'verified-token cache entries'],
        r.samples
          .concat([{ ...r.afterGc, tokens: `${fmtInt(r.afterGc.tokens)} (after GC)` }])
          .map((s) => [
            typeof s.tokens === 'number' ? fmtInt(s.tokens) : s.tokens,
            fmtMB(s.rssMB),
            fmtMB(s.heapUsedMB),
            fmtInt(s.cacheEntries),
          ]),
      ),
    );
    md.push('');
    md.push(
      `Bound: the verified-token cache holds at most ${fmtInt(r.cacheMax)} entries (VERIFIED_TOKEN_CACHE_MAX); ` +
        `measured ~${fmtInt(r.perEntryBytes)} bytes of heap per entry, so the cache adds at most ` +
        `~${fmtMB((r.cacheMax * r.perEntryBytes) / (1024 * 1024))} over the ${fmtMB(r.baseline.heapUsedMB)} heap of the empty module. ` +
        `Peak RSS ${fmtMB(r.peakRssMB)}.`,
    );
    md.push('');
  }
  fs.mkdirSync(CONFIG.outDir, { recursive: true });
  fs.writeFileSync(path.join(CONFIG.outDir, 'latest.md'), `${md.join('\n')}\n`);
  fs.writeFileSync(path.join(CONFIG.outDir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  log('');
  log('Targets (ratios measured in this run, on this machine):');
  for (const t of results.targets || []) {
    log(
      `  [${t.pass ? 'PASS' : 'MISS'}] ${t.platform}: ${t.name}: ${formatValue(t)} (target ${t.target})` +
        (t.cpu
          ? `; from CPU time per request ${fmtRatio(t.cpu.value)} [${t.cpu.pass ? 'PASS' : 'MISS'}]`
          : ''),
    );
  }
  for (const [k, p] of Object.entries(results.routes?.pairedRatios ?? {})) {
    log(
      `  ${k}: ${fmtRatio(p.median)} (per run ${p.perRun.map((x) => x.toFixed(2)).join(', ')}); ` +
        `CPU ${fmtRatio(p.cpuMedian)}, user-mode CPU ${fmtRatio(p.userCpuMedian)} (per run ${(p.userCpuPerRun ?? []).map((x) => x.toFixed(2)).join(', ')})`,
    );
  }
  log(`\nWrote ${path.relative(ROOT, path.join(CONFIG.outDir, 'latest.md'))} and latest.json`);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err && err.stack) || err}\n`);
  process.exit(1);
});
