-- 0015 how a source's OAuth client authenticates at the token endpoint
-- (RFC 7591 token_endpoint_auth_method, as the authorization server
-- registered it): `none` (a public client: client_id in the form),
-- `client_secret_post` or `client_secret_basic`. Kept with the pending
-- authorization and the tokens so the code exchange AND every refresh send
-- the client secret the way it was registered. NULL (rows from before):
-- the executor infers client_secret_post with a secret, none without.
ALTER TABLE source_oauth_pending ADD COLUMN token_auth_method TEXT
    CHECK (token_auth_method IS NULL
           OR token_auth_method IN ('none', 'client_secret_post', 'client_secret_basic'));
ALTER TABLE source_oauth_tokens ADD COLUMN token_auth_method TEXT
    CHECK (token_auth_method IS NULL
           OR token_auth_method IN ('none', 'client_secret_post', 'client_secret_basic'));
