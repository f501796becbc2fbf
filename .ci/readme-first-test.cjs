// Prints the README's "Your first test" example (the first ```ts block after that heading), so the
// consumer check runs it verbatim, from the packed package, under jest and under Vitest.
'use strict';
const fs = require('node:fs');
const readme = fs.readFileSync(process.argv[2], 'utf8');
const at = readme.indexOf('\n## Your first test\n');
if (at < 0) throw new Error('README: no "## Your first test" section');
const start = readme.indexOf('```ts\n', at);
const end = readme.indexOf('\n```', start + 6);
if (start < 0 || end < 0) throw new Error('README: no ts block under "## Your first test"');
const code = readme.slice(start + 6, end + 1);
const lines = code.trimEnd().split('\n').length;
if (lines > 15) throw new Error(`README: the first test has ${lines} lines (at most 15)`);
process.stdout.write(code);
