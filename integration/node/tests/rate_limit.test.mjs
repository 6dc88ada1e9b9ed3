// mcp_rate_limit_rpm as the official MCP TypeScript SDK client sees it, against a real
// `mcpbox up`: a refused tools/call rejects with an McpError on that call (code -32000,
// data.retryAfter in seconds), not a transport failure, and the client's connection goes
// on working. That is why MCPbox answers 200 with a JSON-RPC error rather than 429: the
// SDK's Streamable HTTP transport throws on any non-2xx POST without reading the body
// (docs/DESIGN.md, section 15).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { startUp, mcpbox } from '../lib/mcpbox.mjs';

let up;

before(async () => { up = await startUp(); });

after(async () => {
  if (up) {
    const res = await up.stop();
    const log = up.log();
    up.cleanup();
    assert.deepEqual(res, { code: 0, signal: null }, `mcpbox up did not exit 0:\n${log.slice(-4000)}`);
  }
});

test('a rate-limited call is an McpError with retryAfter; the session goes on', async () => {
  const set = mcpbox(['policy', 'set', 'mcp_rate_limit_rpm', '10', '--data-dir', up.dataDir]);
  assert.equal(set.status, 0, set.stderr);
  const client = new Client({ name: 'mcpbox-node-rate', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(up.url)));
  let ok = 0;
  let refused;
  for (let i = 0; i < 14 && !refused; i++) {
    try {
      const r = await client.callTool({ name: 'mcpbox_list_servers', arguments: {} });
      assert.equal(r.isError, false);
      ok += 1;
    } catch (e) {
      refused = e;
    }
  }
  assert.ok(ok >= 10 && ok <= 11, `allowed ${ok}`);
  assert.ok(refused instanceof McpError, `not an McpError: ${refused}`);
  assert.equal(refused.code, -32000);
  assert.ok(refused.data.retryAfter >= 1 && refused.data.retryAfter <= 6, JSON.stringify(refused.data));
  assert.equal(refused.data.limit, 10);
  // the same session still answers what is not rate limited, and a raised limit
  // lets calls through again without a restart
  assert.ok((await client.listTools()).tools.length > 0);
  assert.equal(mcpbox(['policy', 'set', 'mcp_rate_limit_rpm', '10000', '--data-dir', up.dataDir]).status, 0);
  await new Promise((r) => setTimeout(r, 50));
  const r = await client.callTool({ name: 'mcpbox_list_servers', arguments: {} });
  assert.equal(r.isError, false);
  await client.close();
});
