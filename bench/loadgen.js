'use strict';
// The load generator: a separate process (forked by bench/run.js) that drives autocannon against
// the app processes. Commands arrive over IPC; each answer is a compact summary.
const fs = require('node:fs');
const autocannon = require('autocannon');

/** Token lists by file, read once. */
const tokenFiles = new Map();
function tokensFrom(file) {
  let list = tokenFiles.get(file);
  if (!list) {
    list = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
    tokenFiles.set(file, list);
  }
  return list;
}

/**
 * A request definition whose Authorization header takes the next token of `list[from..to)` on every
 * request (autocannon rebuilds a request with setupRequest each time), so no token is sent twice.
 */
function rotating(list, from, to, counter) {
  return [
    {
      setupRequest(req) {
        let i = from + counter.used++;
        if (i >= to) {
          counter.wrapped++;
          i = from + ((i - from) % (to - from));
        }
        return { ...req, headers: { ...req.headers, authorization: `Bearer ${list[i]}` } };
      },
    },
  ];
}

function summarize(r, extra = {}) {
  return {
    rps: r.requests.average,
    total: r.requests.total,
    ok: r['2xx'],
    non2xx: r.non2xx,
    status: Object.fromEntries(Object.entries(r.statusCodeStats || {}).map(([k, v]) => [k, v.count])),
    errors: r.errors,
    timeouts: r.timeouts,
    p50: r.latency.p50,
    p90: r.latency.p90,
    p99: r.latency.p99,
    max: r.latency.max,
    duration: r.duration,
    ...extra,
  };
}

function cannon(opts) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(opts, (err, result) => (err ? reject(err) : resolve({ instance, result })));
    opts.onInstance?.(instance);
  });
}

/** One measurement: `path` with an optional fixed token or a slice of a token file. */
async function run(spec) {
  const counter = { used: 0, wrapped: 0 };
  const headers = spec.token ? { authorization: `Bearer ${spec.token}` } : {};
  const opts = {
    url: spec.url,
    connections: spec.connections,
    pipelining: 1,
    duration: spec.duration,
    amount: spec.amount,
    headers,
    timeout: 10,
  };
  if (spec.tokensFile) {
    const list = tokensFrom(spec.tokensFile);
    const [from, to] = spec.slice ?? [0, list.length];
    opts.requests = rotating(list, from, Math.min(to, list.length), counter);
  }
  const { result } = await cannon(opts);
  return summarize(result, spec.tokensFile ? { tokensUsed: counter.used, wrapped: counter.wrapped } : {});
}

/**
 * JWKS amplification: `amount` requests, each with a different unknown kid, at full rate, while
 * legitimate traffic (a valid token) runs on other connections until the attack is over.
 */
async function attack(spec) {
  let legitInstance;
  const legit = cannon({
    url: spec.legit.url,
    connections: spec.legit.connections,
    duration: 3600,
    headers: { authorization: `Bearer ${spec.legit.token}` },
    timeout: 10,
    onInstance: (i) => (legitInstance = i),
  });
  const counter = { used: 0, wrapped: 0 };
  const list = tokensFrom(spec.attack.tokensFile);
  const t0 = Date.now();
  // Bounded in time: an implementation may leave unknown-kid requests waiting (jwks-rsa's rate
  // limiter queues them), and autocannon only counts answered requests towards `amount`.
  let attackInstance;
  let cutOff = false;
  const timer = setTimeout(() => {
    cutOff = true;
    attackInstance.stop();
  }, spec.attack.maxSeconds * 1000);
  const bad = await cannon({
    url: spec.attack.url,
    connections: spec.attack.connections,
    amount: spec.attack.amount,
    requests: rotating(list, 0, list.length, counter),
    timeout: spec.attack.timeoutSec,
    onInstance: (i) => (attackInstance = i),
  });
  clearTimeout(timer);
  const attackMs = Date.now() - t0;
  legitInstance.stop();
  const good = await legit;
  return {
    attack: summarize(bad.result, {
      tokensUsed: counter.used,
      wrapped: counter.wrapped,
      elapsedMs: attackMs,
      cutOff,
    }),
    legit: summarize(good.result),
  };
}

process.on('message', (msg) => {
  const handler = msg.type === 'run' ? run : msg.type === 'attack' ? attack : undefined;
  if (!handler) return;
  handler(msg.spec).then(
    (result) => process.send({ id: msg.id, result }),
    (err) => process.send({ id: msg.id, error: String((err && err.stack) || err) }),
  );
});
process.send({ type: 'ready' });
