// A small external MCP source for the tests, built with the official SDK's
// low-level Server and its Streamable HTTP transport (stateless): one tool,
// `echo`, whose description and input schema come from the command line,
// so a test can restart the source with a changed tool.
//   node echo_source.mjs PORT "DESCRIPTION" [extra-property-name]
import { createServer } from 'node:http';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const [port, description, extra] = process.argv.slice(2);
const properties = { message: { type: 'string', description: 'what to echo' } };
if (extra) properties[extra] = { type: 'integer' };

function mcpServer() {
  const server = new Server({ name: 'echo-source', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: [{ name: 'echo', description, inputSchema: { type: 'object', properties, required: ['message'] } }],
  }));
  server.setRequestHandler(CallToolRequestSchema, async (req) => ({
    content: [{ type: 'text', text: `${description}: ${req.params.arguments?.message}` }],
  }));
  return server;
}

createServer(async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : undefined;
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  const server = mcpServer();
  res.on('close', () => { transport.close(); server.close(); });
  await server.connect(transport);
  await transport.handleRequest(req, res, body);
}).listen(Number(port), '0.0.0.0', () => console.error(`echo source on ${port}`));
