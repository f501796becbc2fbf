'use strict';
// Worker thread: signs `count` tokens with the emulator's own signJws (the code behind
// EzidEmulator.mintAccessToken), from one token's header and claims, each with a fresh `jti`, and
// posts them in batches. The key is a key published in the emulator's JWKS.
const crypto = require('node:crypto');
const { parentPort, workerData } = require('node:worker_threads');

const { signJws } = require(workerData.emulatorJwt);
const key = crypto.createPrivateKey(workerData.privateKeyPem);
const { header, payload, count, batch } = workerData;

let buf = [];
for (let i = 0; i < count; i++) {
  buf.push(signJws(header, { ...payload, jti: crypto.randomUUID() }, 'RS256', key));
  if (buf.length === batch) {
    parentPort.postMessage(buf);
    buf = [];
  }
}
if (buf.length) parentPort.postMessage(buf);
parentPort.postMessage(null);
