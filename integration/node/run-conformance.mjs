#!/usr/bin/env node
// Start `mcpbox up` (as the README does), run the MCP conformance suite's server
// scenarios for one specification revision (--requirements REV: exactly the
// scenarios that revision requires) against its /mcp with
// conformance-baseline-REV.yml as the expected failures, stop it with SIGTERM.
// Exit code: the suite's (or 1 when `mcpbox up` does not stop cleanly).
//   MCPBOX_BUILD_DIR=/path/to/build ./node_modules/.bin/node run-conformance.mjs \
//       2025-11-25|2026-07-28 [extra conformance args]
// 2025-11-25 exercises the session era (initialize, Mcp-Session-Id, GET stream),
// 2026-07-28 the stateless era (per-request _meta, server/discover,
// subscriptions/listen); /mcp serves both.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startUp } from './lib/mcpbox.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.join(here, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');
const [revision, ...extra] = process.argv.slice(2);
const baseline = path.join(here, `conformance-baseline-${revision}.yml`);
if (!revision || !/^\d{4}-\d{2}-\d{2}$/.test(revision) || !existsSync(baseline)) {
  console.error('usage: run-conformance.mjs REVISION [args]; REVISION has a ' +
                'conformance-baseline-REVISION.yml here (2025-11-25, 2026-07-28)');
  process.exit(2);
}

const up = await startUp();
const outDir = mkdtempSync('/tmp/mbconf');
let code = 1;
try {
  console.log(`mcpbox up: ${up.url} (data dir ${up.dataDir}), requirements ${revision}`);
  const args = [cli, 'server', '--url', up.url, '--requirements', revision,
    '--expected-failures', baseline, '-o', outDir, ...extra];
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
console.log(`conformance (${revision}) exit code ${code}`);
process.exit(code);
