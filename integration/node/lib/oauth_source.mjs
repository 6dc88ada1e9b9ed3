// An OAuth-protected MCP source for the tests, made of the official SDK's parts:
// its bearer-auth middleware guards /mcp (401 with WWW-Authenticate naming the
// protected-resource metadata, RFC 9728) and its metadata handler serves the
// protected-resource and authorization-server (RFC 8414) documents. The issuer is
// this server's own address; the token endpoint can be pointed elsewhere (a hostile
// source pointing it at loopback or a metadata address).
//   node oauth_source.mjs PORT ADDRESS [TOKEN_ENDPOINT]
import express from 'express';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { metadataHandler } from '@modelcontextprotocol/sdk/server/auth/handlers/metadata.js';
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';

const [port, address, tokenEndpoint] = process.argv.slice(2);
const issuer = `http://${address}:${port}`;
const app = express();
app.use('/.well-known/oauth-protected-resource/mcp', metadataHandler({
  resource: `${issuer}/mcp`, authorization_servers: [issuer], scopes_supported: ['mcp'],
}));
app.use('/.well-known/oauth-authorization-server', metadataHandler({
  issuer,
  authorization_endpoint: `${issuer}/authorize`,
  token_endpoint: tokenEndpoint || `${issuer}/token`,
  registration_endpoint: `${issuer}/register`,
  response_types_supported: ['code'],
  grant_types_supported: ['authorization_code', 'refresh_token'],
  code_challenge_methods_supported: ['S256'],
  client_id_metadata_document_supported: true,
}));
const verifier = { async verifyAccessToken() { throw new InvalidTokenError('no token is valid here'); } };
app.use('/mcp', requireBearerAuth({
  verifier, resourceMetadataUrl: `${issuer}/.well-known/oauth-protected-resource/mcp`,
}), (req, res) => res.status(500).end());
app.listen(Number(port), '0.0.0.0', () => console.error(`oauth source on ${port}`));
