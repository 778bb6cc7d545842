#!/usr/bin/env node
// Runs every compiled test file with Node's built-in runner (its summary names passed and failed counts).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

// --test-force-exit below needs Node.js 20.14 or later; Debian's own nodejs is older.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 14)) {
  console.error(`Node.js 20.14 or later is needed to run the tests (found ${process.version})`);
  process.exit(1);
}

const base = path.resolve(__dirname, '..', '.test-build', 'test');
const filter = process.argv[2];
const files = [];
(function walk(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(p);
    else if (entry.name.endsWith('.test.js') && (!filter || p.includes(filter))) files.push(p);
  }
})(base);
files.sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
// A failed test must not leave the run hanging on an open socket: bound each test and force the exit.
const args = ['--test', '--test-reporter=spec', '--test-concurrency=1', '--test-timeout=180000', '--test-force-exit', ...files];
const res = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(res.status ?? 1);
