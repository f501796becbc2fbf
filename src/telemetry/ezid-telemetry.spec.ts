import * as fc from 'fast-check';
import { EZID_METRICS, type EzidOtelApi, EzidTelemetry } from './ezid-telemetry';

type Observed = Map<string, number>;

/** An `@opentelemetry/api` stand-in that keeps the observable counters' callbacks, to collect them. */
function fakeApi(): { api: EzidOtelApi; collect: (name: string) => Observed } {
  const callbacks = new Map<string, (r: { observe(n: number, attrs: object): void }) => void>();
  const noop = { add() {}, record() {} };
  const meter = {
    createCounter: () => noop,
    createHistogram: () => noop,
    createObservableCounter: (name: string) => ({
      addCallback: (cb: (r: { observe(n: number, attrs: object): void }) => void) => callbacks.set(name, cb),
    }),
  };
  const api = {
    trace: { getTracer: () => ({ startSpan: () => ({}) }) },
    metrics: { getMeter: () => meter },
    SpanKind: { CLIENT: 2 },
    SpanStatusCode: { ERROR: 2 },
  } as unknown as EzidOtelApi;
  const collect = (name: string): Observed => {
    const out: Observed = new Map();
    callbacks.get(name)!({ observe: (n, attrs) => out.set(JSON.stringify(attrs), n) });
    return out;
  };
  return { api, collect };
}

/** The counting rule as a model: 16 transports, 64 codes a transport, then one `other` cell. */
function model(events: ReadonlyArray<readonly [string, string]>): Observed {
  const codes = new Map<string, Set<string>>();
  const out: Observed = new Map();
  for (const [code, transport] of events) {
    let key = JSON.stringify({ 'ezid.code': code, 'ezid.transport': transport });
    let set = codes.get(transport);
    if (!set && codes.size < 16) codes.set(transport, (set = new Set()));
    if (!set || (!set.has(code) && set.size >= 64))
      key = JSON.stringify({ 'ezid.code': 'other', 'ezid.transport': 'other' });
    else set.add(code);
    out.set(key, (out.get(key) ?? 0) + 1);
  }
  return out;
}

describe('EzidTelemetry decision counts', () => {
  it('count every (code, transport) decision in its own cell, runs of the same pair and the overflow cell included', () => {
    const code = fc.oneof(
      fc.constantFrom('ok', 'token_missing', 'token_invalid'),
      fc.nat(80).map((n) => `c${n}`),
    );
    const transport = fc.oneof(
      fc.constantFrom('http', 'graphql', 'ws', 'rpc'),
      fc.nat(20).map((n) => `t${n}`),
    );
    const run = fc.tuple(fc.tuple(code, transport), fc.integer({ min: 1, max: 4 }));
    fc.assert(
      fc.property(fc.array(run, { maxLength: 400 }), fc.boolean(), (runs, authz) => {
        const { api, collect } = fakeApi();
        const telemetry = new EzidTelemetry(api);
        const events: Array<readonly [string, string]> = [];
        for (const [[c, t], times] of runs)
          for (let i = 0; i < times; i++) {
            if (authz) telemetry.authzDecision(c, t);
            else telemetry.authnDecision(c, t);
            events.push([c, t]);
          }
        const name = authz ? EZID_METRICS.authzDecisions : EZID_METRICS.authnDecisions;
        expect(collect(name)).toEqual(model(events));
        const other = collect(authz ? EZID_METRICS.authnDecisions : EZID_METRICS.authzDecisions);
        expect(other.size).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('past 64 codes of a transport and past 16 transports, decisions go to the other cell', () => {
    const { api, collect } = fakeApi();
    const telemetry = new EzidTelemetry(api);
    const events: Array<readonly [string, string]> = [];
    const count = (c: string, t: string) => {
      telemetry.authnDecision(c, t);
      events.push([c, t]);
    };
    for (let i = 0; i < 70; i++) for (const c of [`c${i}`, `c${i}`, 'ok']) count(c, 'http');
    for (let i = 0; i < 20; i++) for (const t of [`t${i}`, 'http', `t${i}`]) count('ok', t);
    const got = collect(EZID_METRICS.authnDecisions);
    expect(got).toEqual(model(events));
    expect(got.get(JSON.stringify({ 'ezid.code': 'other', 'ezid.transport': 'other' }))).toBe(7 * 2 + 5 * 2);
    expect(got.get(JSON.stringify({ 'ezid.code': 'ok', 'ezid.transport': 'http' }))).toBe(70 + 20);
  });
});
