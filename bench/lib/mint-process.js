'use strict';
// A minting process: receives a mint template and a count over IPC, writes that many distinct
// tokens to stdout, one per line (so the consumer's memory holds no minting state, no worker isolate).
const { mintStream } = require('./mint');

process.once('message', ({ template, count }) => {
  mintStream(template, count, (batch) => {
    if (!process.stdout.write(`${batch.join('\n')}\n`))
      return new Promise((r) => process.stdout.once('drain', r));
  }).then(
    () => process.stdout.end(() => process.exit(0)),
    (err) => {
      process.stderr.write(`minting failed: ${(err && err.stack) || err}\n`);
      process.exit(1);
    },
  );
});
