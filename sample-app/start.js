#!/usr/bin/env node
// `npm start`: builds the package (dist/) and the sample app (sample-app/dist/), then starts the app.
// The app imports 'nestjs-ezid' by name, which resolves to this repo's build through the package's
// own exports map, exactly as in a user's app.
'use strict';
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const fs = require('node:fs');

const root = path.resolve(__dirname, '..');
const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
const build = (project) =>
  execFileSync(process.execPath, [tsc, '-p', project], { cwd: root, stdio: 'inherit' });

process.stdout.write('Building nestjs-ezid and the sample app...\n');
fs.rmSync(path.join(root, 'dist'), { recursive: true, force: true });
build('tsconfig.build.json');
fs.rmSync(path.join(__dirname, 'dist'), { recursive: true, force: true });
build('sample-app/tsconfig.json');
require('./dist/main.js')
  .main()
  .catch((err) => {
    process.stderr.write(`The sample app could not start: ${err && err.message}\n`);
    process.exit(1);
  });
