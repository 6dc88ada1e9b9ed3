#!/usr/bin/env node
// Start `mcpbox up` (as the README does), run the MCP conformance suite's server
// scenarios (--suite all) against its /mcp with conformance-baseline.yml as the
// expected failures, stop it with SIGTERM. Exit code: the suite's (or 1 when
// `mcpbox up` does not stop cleanly).
//   MCPBOX_BUILD_DIR=/path/to/build ./node_modules/.bin/node run-conformance.mjs [extra conformance args]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startUp } from './lib/mcpbox.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.join(here, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');
const baseline = path.join(here, 'conformance-baseline.yml');

const up = await startUp();
const outDir = mkdtempSync('/tmp/mbconf');
let code = 1;
try {
  console.log(`mcpbox up: ${up.url} (data dir ${up.dataDir})`);
  const args = [cli, 'server', '--url', up.url, '--suite', 'all',
    '--expected-failures', baseline, '-o', outDir, ...process.argv.slice(2)];
  code = await new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: 'inherit' });
    child.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 1)));
  });
} finally {
  const res = await up.stop();
  if (res.code !== 0) {
    console.error(`mcpbox up did not stop cleanly: ${JSON.stringify(res)}\n${up.log().slice(-4000)}`);
    if (code === 0) code = 1;
  }
  up.cleanup();
  rmSync(outDir, { recursive: true, force: true });
}
console.log(`conformance exit code ${code}`);
process.exit(code);
