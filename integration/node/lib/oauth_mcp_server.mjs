// An OAuth-protected MCP source with a real authorization server, for the
// whole authorize → callback → call → expiry → refresh cycle (issue 13).
// Everything that speaks OAuth is the official SDK's: the MCP server
// (McpServer + StreamableHTTPServerTransport) is guarded by requireBearerAuth
// (401 + WWW-Authenticate naming the RFC 9728 metadata), and the authorization
// server is mcpAuthRouter (RFC 8414 metadata, RFC 7591 registration, the
// authorize and token endpoints with PKCE S256 checked by the SDK) in front of
// the in-memory provider below, which adds what a strict AS does:
//   - `resource` (RFC 8707) is required at /authorize and must name this MCP
//     server's /mcp; a token request naming another is refused; the bearer
//     middleware refuses a token issued for another resource;
//   - codes are single use, bound to their client, redirect_uri and resource,
//     and live 60 s;
//   - access tokens live --access-ttl seconds; refresh tokens rotate (the old
//     one is refused once used, and counted as a reuse);
//   - /revoke (RFC 7009) drops a token;
//   - /authorize approves at once (the AS's consent, not MCPbox's) and
//     redirects to the registered redirect_uri with code and state.
// The same server also speaks the legacy HTTP+SSE transport at /mcp/sse.
// The AS listens on a port of its own (another origin than the resource, as a
// hosted AS would be), so a client must follow authorization_servers.
// Test-only endpoints on the MCP port (a fake admin console, named as such):
//   GET  /_test/status                 counts (grants by type, refusals, 401s,
//                                      registrations) and every token issued
//                                      (the test looks for them in MCPbox's files)
//   POST /_test/revoke?what=access|all drop every access token (a 401 at call
//                                      time) or every token (a refused refresh)
//   POST /_test/config?access_ttl=S    the lifetime of access tokens issued from now
//   node oauth_mcp_server.mjs --address A [--port 3010] [--as-port 3011]
//        [--access-ttl 3600] [--token-endpoint URL] [--registration-endpoint URL] [--echo-token]
//        [--client-auth client_secret_post|client_secret_basic]
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';

// http issuers on a private address: the SDK allows them only with this set,
// and reads it when its router module loads (hence the dynamic imports)
process.env.MCP_DANGEROUSLY_ALLOW_INSECURE_ISSUER_URL = '1';
const { default: express } = await import('express');
const { z } = await import('zod');
const { McpServer } = await import('@modelcontextprotocol/sdk/server/mcp.js');
const { StreamableHTTPServerTransport } = await import('@modelcontextprotocol/sdk/server/streamableHttp.js');
const { SSEServerTransport } = await import('@modelcontextprotocol/sdk/server/sse.js');
const { mcpAuthRouter, createOAuthMetadata } = await import('@modelcontextprotocol/sdk/server/auth/router.js');
const { requireBearerAuth } = await import('@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js');
const { metadataHandler } = await import('@modelcontextprotocol/sdk/server/auth/handlers/metadata.js');
const { InvalidGrantError, InvalidRequestError, InvalidTargetError, InvalidTokenError } =
  await import('@modelcontextprotocol/sdk/server/auth/errors.js');

const { values: opt } = parseArgs({
  options: {
    address: { type: 'string' },
    port: { type: 'string', default: '3010' },
    'as-port': { type: 'string', default: '3011' },
    'access-ttl': { type: 'string', default: '3600' },
    'token-endpoint': { type: 'string' },
    'registration-endpoint': { type: 'string' },
    // a hostile source: one more tool that sends the caller's token back (the
    // client must redact it from what it passes on)
    'echo-token': { type: 'boolean', default: false },
    // a confidential client: registration answers this token_endpoint_auth_method
    // (client_secret_post | client_secret_basic) with a secret, and /token
    // refuses a client that authenticates any other way (invalid_client)
    'client-auth': { type: 'string' },
  },
});
if (!opt.address) throw new Error('--address is required');
let accessTtl = Number(opt['access-ttl']);
const origin = `http://${opt.address}:${opt.port}`;
const resource = `${origin}/mcp`;
const issuer = new URL(`http://${opt.address}:${opt['as-port']}/`);
const CODE_TTL_MS = 60000;

const status = {
  registrations: 0,
  authorizations: 0,
  grants: { authorization_code: 0, refresh_token: 0 },
  refused: { authorize: 0, authorization_code: 0, refresh_token: 0 },
  refresh_reused: 0,
  revocations: 0,
  mcp: { requests: 0, unauthorized: 0, calls: 0 },
  last_token_request: null,
  token_auth: [],                 // how each /token request authenticated: none, post, basic
  clients: [],
  issued: { access: [], refresh: [] },
  access_expires_at_ms: null,     // of the latest access token issued
};

function fingerprint(token) {
  return createHash('sha256').update(token).digest('hex').slice(0, 12);
}

class ClientsStore {
  clients = new Map();
  async getClient(id) { return this.clients.get(id); }
  async registerClient(client) {
    this.clients.set(client.client_id, client);
    status.registrations++;
    status.clients.push({ client_id: client.client_id, redirect_uris: client.redirect_uris,
      token_endpoint_auth_method: client.token_endpoint_auth_method ?? null,
      grant_types: client.grant_types ?? null, client_name: client.client_name ?? null });
    return client;
  }
}

class Provider {
  clientsStore = new ClientsStore();
  codes = new Map();
  access = new Map();
  refresh = new Map();
  used = new Set();

  async authorize(client, params, res) {
    if (!params.resource || params.resource.href !== resource) {
      status.refused.authorize++;
      throw new InvalidTargetError(`resource must be ${resource}`);
    }
    const code = randomBytes(24).toString('base64url');
    this.codes.set(code, { clientId: client.client_id, params, expires: Date.now() + CODE_TTL_MS });
    status.authorizations++;
    const target = new URL(params.redirectUri);
    target.searchParams.set('code', code);
    if (params.state !== undefined) target.searchParams.set('state', params.state);
    res.redirect(302, target.href);
  }

  async challengeForAuthorizationCode(client, code) {
    const entry = this.codes.get(code);
    if (!entry || entry.clientId !== client.client_id || entry.expires < Date.now()) {
      status.refused.authorization_code++;
      throw new InvalidGrantError('unknown, expired or used authorization code');
    }
    return entry.params.codeChallenge;
  }

  // the SDK has checked the verifier against the challenge before this
  async exchangeAuthorizationCode(client, code, _verifier, redirectUri, reqResource) {
    const entry = this.codes.get(code);
    this.codes.delete(code);
    status.last_token_request = { grant_type: 'authorization_code', resource: reqResource?.href ?? null,
      redirect_uri: redirectUri ?? null };
    if (!entry || entry.clientId !== client.client_id || entry.expires < Date.now()) {
      status.refused.authorization_code++;
      throw new InvalidGrantError('unknown, expired or used authorization code');
    }
    if (redirectUri !== undefined && redirectUri !== entry.params.redirectUri) {
      status.refused.authorization_code++;
      throw new InvalidGrantError('redirect_uri differs from the authorization request');
    }
    if (reqResource && reqResource.href !== entry.params.resource.href) {
      status.refused.authorization_code++;
      throw new InvalidTargetError(`resource must be ${entry.params.resource.href}`);
    }
    status.grants.authorization_code++;
    return this.#issue(client.client_id, entry.params.scopes ?? []);
  }

  async exchangeRefreshToken(client, token, scopes, reqResource) {
    status.last_token_request = { grant_type: 'refresh_token', resource: reqResource?.href ?? null };
    const entry = this.refresh.get(token);
    if (!entry) {
      if (this.used.has(token)) status.refresh_reused++;
      status.refused.refresh_token++;
      throw new InvalidGrantError('unknown, revoked or already used refresh token');
    }
    if (entry.clientId !== client.client_id) {
      status.refused.refresh_token++;
      throw new InvalidGrantError('refresh token was issued to another client');
    }
    if (reqResource && reqResource.href !== resource) {
      status.refused.refresh_token++;
      throw new InvalidTargetError(`resource must be ${resource}`);
    }
    // rotation: this refresh token is spent
    this.refresh.delete(token);
    this.used.add(token);
    status.grants.refresh_token++;
    return this.#issue(client.client_id, scopes?.length ? scopes : entry.scopes);
  }

  async verifyAccessToken(token) {
    const entry = this.access.get(token);
    if (!entry || entry.expiresAt < Date.now()) throw new InvalidTokenError('unknown or expired token');
    return { token, clientId: entry.clientId, scopes: entry.scopes,
      expiresAt: Math.floor(entry.expiresAt / 1000), resource: new URL(resource) };
  }

  // RFC 7009 (the SDK's /revoke handler has authenticated the client)
  async revokeToken(client, { token }) {
    const entry = this.access.get(token) ?? this.refresh.get(token);
    if (entry && entry.clientId === client.client_id) {
      this.access.delete(token);
      this.refresh.delete(token);
      status.revocations++;
    }
  }

  revokeAll(what) {
    this.access.clear();
    if (what === 'all') this.refresh.clear();
  }

  #issue(clientId, scopes) {
    const access = randomBytes(32).toString('base64url');
    const refresh = randomBytes(32).toString('base64url');
    const expiresAt = Date.now() + accessTtl * 1000;
    this.access.set(access, { clientId, scopes, expiresAt });
    status.access_expires_at_ms = expiresAt;
    this.refresh.set(refresh, { clientId, scopes });
    status.issued.access.push(access);
    status.issued.refresh.push(refresh);
    return { access_token: access, token_type: 'Bearer', expires_in: accessTtl,
      refresh_token: refresh, scope: scopes.join(' ') };
  }
}

const provider = new Provider();

// --- the authorization server (its own origin) ---------------------------------------
const as = express();
const metadata = createOAuthMetadata({ provider, issuerUrl: issuer, scopesSupported: ['mcp'] });
// a hostile AS: its metadata points an endpoint elsewhere (loopback, a metadata address)
if (opt['token-endpoint']) metadata.token_endpoint = opt['token-endpoint'];
if (opt['registration-endpoint']) metadata.registration_endpoint = opt['registration-endpoint'];
as.use('/.well-known/oauth-authorization-server', metadataHandler(metadata));
if (opt['client-auth']) {
  as.use('/register', express.json(), (req, _res, next) => {
    if (req.body && typeof req.body === 'object') req.body.token_endpoint_auth_method = opt['client-auth'];
    next();
  });
  as.use('/token', express.urlencoded({ extended: false }), (req, res, next) => {
    const basic = /^Basic ([A-Za-z0-9+/=]+)$/.exec(req.headers.authorization ?? '');
    const via = basic ? 'basic' : req.body?.client_secret ? 'post' : 'none';
    status.token_auth.push(via);
    if (via !== (opt['client-auth'] === 'client_secret_basic' ? 'basic' : 'post')) {
      res.status(401).json({ error: 'invalid_client',
        error_description: `this client authenticates with ${opt['client-auth']}` });
      return;
    }
    if (basic) {         // RFC 6749 §2.3.1: both parts form-encoded; the SDK reads the body
      const [id, secret] = Buffer.from(basic[1], 'base64').toString().split(':');
      req.body.client_id = decodeURIComponent(id);
      req.body.client_secret = decodeURIComponent(secret ?? '');
    }
    next();
  });
}
const noLimit = { rateLimit: false };
as.use(mcpAuthRouter({
  provider, issuerUrl: issuer, scopesSupported: ['mcp'], resourceServerUrl: new URL(resource),
  authorizationOptions: noLimit, tokenOptions: noLimit, clientRegistrationOptions: noLimit,
  revocationOptions: noLimit,
}));
as.listen(Number(opt['as-port']), '0.0.0.0', () => console.error(`authorization server on ${issuer.href}`));

// --- the MCP server (the protected resource) -------------------------------------------
function mcpServer() {
  const server = new McpServer({ name: 'oauth-source', version: '1.0.0' });
  server.registerTool('whoami', {
    description: 'Which OAuth client and token called (a fingerprint of the token, never the token)',
  }, async (extra) => ({
    content: [{ type: 'text', text: JSON.stringify({
      client_id: extra.authInfo?.clientId, token: fingerprint(extra.authInfo?.token ?? ''),
      scopes: extra.authInfo?.scopes, resource: String(extra.authInfo?.resource ?? '') }) }],
  }));
  if (opt['echo-token']) {
    server.registerTool('echo_token', { description: 'Sends the bearer token back' },
      async (extra) => ({ content: [{ type: 'text', text: `you sent Bearer ${extra.authInfo?.token}` }] }));
  }
  server.registerTool('add', {
    description: 'Add two numbers', inputSchema: { a: z.number(), b: z.number() },
  }, async ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }] }));
  return server;
}

const app = express();
app.use(express.json({ limit: '1mb' }));
const prmUrl = `${origin}/.well-known/oauth-protected-resource/mcp`;
app.use('/.well-known/oauth-protected-resource/mcp', metadataHandler({
  resource, authorization_servers: [issuer.href], scopes_supported: ['mcp'],
  resource_name: 'oauth test source',
}));
app.get('/_test/status', (_req, res) => res.json(status));
app.post('/_test/config', (req, res) => {
  const ttl = Number(req.query.access_ttl);
  if (!Number.isInteger(ttl) || ttl < 1) return res.status(400).json({ error: 'access_ttl: seconds' });
  accessTtl = ttl;
  res.json({ access_ttl: accessTtl });
});
app.post('/_test/revoke', (req, res) => {
  provider.revokeAll(req.query.what === 'all' ? 'all' : 'access');
  res.json({ revoked: req.query.what === 'all' ? 'all' : 'access' });
});

// every request to the resource counted, and guarded by the SDK's bearer auth
const guarded = [(req, res, next) => {
  status.mcp.requests++;
  res.on('finish', () => { if (res.statusCode === 401) status.mcp.unauthorized++; });
  next();
}, requireBearerAuth({ verifier: provider, resourceMetadataUrl: prmUrl, expectedResource: new URL(resource) })];

const sessions = new Map();
app.all('/mcp', ...guarded, async (req, res) => {
  const id = req.headers['mcp-session-id'];
  let transport = id ? sessions.get(id) : undefined;
  if (id && !transport) {
    res.status(404).json({ jsonrpc: '2.0', error: { code: -32001, message: 'unknown session' }, id: null });
    return;
  }
  if (!transport) {
    transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sid) => sessions.set(sid, transport),
    });
    transport.onclose = () => { if (transport.sessionId) sessions.delete(transport.sessionId); };
    await mcpServer().connect(transport);
  }
  if (req.body?.method === 'tools/call') status.mcp.calls++;
  await transport.handleRequest(req, res, req.body);
});

// The legacy HTTP+SSE transport of the same server, under the same resource
// (/mcp is a prefix of its URLs, so the same token is good for both).
const sseSessions = new Map();
app.get('/mcp/sse', ...guarded, async (req, res) => {
  const transport = new SSEServerTransport('/mcp/messages', res);
  sseSessions.set(transport.sessionId, transport);
  res.on('close', () => sseSessions.delete(transport.sessionId));
  await mcpServer().connect(transport);
});
app.post('/mcp/messages', ...guarded, async (req, res) => {
  const transport = sseSessions.get(String(req.query.sessionId));
  if (!transport) {
    res.status(404).json({ error: 'unknown session' });
    return;
  }
  if (req.body?.method === 'tools/call') status.mcp.calls++;
  await transport.handlePostMessage(req, res, req.body);
});
app.listen(Number(opt.port), '0.0.0.0', () => console.error(`oauth MCP source on ${resource}`));
