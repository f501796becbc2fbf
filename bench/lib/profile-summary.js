#!/usr/bin/env node
'use strict';
// Summarises a V8 .cpuprofile (node --cpu-prof): self time and inclusive time by function.
// Usage: node bench/lib/profile-summary.js <file.cpuprofile> [top=30] [filter-regexp]
const fs = require('node:fs');

function summarize(file, top = 30, filter) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children || []) parent.set(c, n.id);
  const hits = new Map();
  for (const s of prof.samples) hits.set(s, (hits.get(s) || 0) + 1);
  const total = prof.samples.length;
  const name = (n) => {
    const f = n.callFrame;
    const url = f.url.replace(/^.*\/(node_modules\/)/, '$1').replace(/^.*nestjs-ezid-bench-[^/]+\//, '');
    return `${f.functionName || '(anonymous)'} ${url}:${f.lineNumber + 1}`;
  };
  const self = new Map();
  const incl = new Map();
  for (const [id, count] of hits) {
    const n = byId.get(id);
    const k = name(n);
    self.set(k, (self.get(k) || 0) + count);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const key = name(byId.get(cur));
      if (seen.has(key)) continue;
      seen.add(key);
      incl.set(key, (incl.get(key) || 0) + count);
    }
  }
  const re = filter ? new RegExp(filter) : null;
  const rows = (m) =>
    [...m.entries()]
      .filter(([k]) => !re || re.test(k))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => `${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`)
      .join('\n');
  return `${total} samples\n\nself time:\n${rows(self)}\n\ninclusive time:\n${rows(incl)}\n`;
}

if (require.main === module) {
  const [file, top, filter] = process.argv.slice(2);
  process.stdout.write(summarize(file, top ? Number(top) : 30, filter));
}
module.exports = { summarize };
