'use strict';
// Fast minting of many distinct, valid emulator tokens: a few worker threads sign with a key the
// emulator publishes (EzidEmulator.addKey()), reusing the claims of a token the emulator minted
// with that key and varying only `jti`. Each token is a different string, signed and valid.
const os = require('node:os');
const path = require('node:path');
const { Worker } = require('node:worker_threads');

/** Everything a worker needs to mint like the emulator: header, claims, key (PEM), signJws module. */
function mintTemplate(emu, outDir, user) {
  const pair = emu.addKey();
  const token = emu.mintAccessToken(user, { signWith: { kid: pair.kid, privateKey: pair.privateKey } });
  const [h, p] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')),
    privateKeyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    emulatorJwt: path.join(outDir, 'src', 'testing', 'emulator-jwt.js'),
  };
}

/**
 * Mints `count` tokens on `threads` workers; `onBatch(tokens)` gets each batch as it arrives (may
 * return a promise: workers are not throttled, batches are handled in order). Resolves when done.
 */
function mintStream(template, count, onBatch, threads = Math.max(1, Math.min(2, os.cpus().length))) {
  const per = Math.ceil(count / threads);
  let chain = Promise.resolve();
  const jobs = [];
  for (let t = 0; t < threads; t++) {
    const n = Math.min(per, count - t * per);
    if (n <= 0) break;
    jobs.push(
      new Promise((resolve, reject) => {
        const w = new Worker(path.join(__dirname, 'mint-worker.js'), {
          workerData: { ...template, count: n, batch: 500 },
        });
        w.on('message', (tokens) => {
          if (tokens === null) return resolve();
          chain = chain.then(() => onBatch(tokens));
        });
        w.on('error', reject);
        w.on('exit', (code) =>
          code === 0 ? resolve() : reject(new Error(`mint worker exited with ${code}`)),
        );
      }),
    );
  }
  return Promise.all(jobs).then(() => chain);
}

module.exports = { mintTemplate, mintStream };
