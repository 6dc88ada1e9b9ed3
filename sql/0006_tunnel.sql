-- 0006 tunnel: the remote-access tunnel's configuration. Owned and written
-- only by the tunnel actor (actors/tunnel/). One row (id = 1).
--
-- No secret is stored here. The cloudflared token is sealed by the
-- credentials actor (its server_secrets table, owner id 'tunnel', key
-- CLOUDFLARED_TOKEN, under the master key like every secret value);
-- has_token only records that one was given. The SSH private key is a file
-- in DATA/tunnel/ (0600), made by ssh-keygen. ssh_host_key is the server's
-- public host key the client pins ("ssh-ed25519 AAAA..."), not a secret.
-- enabled: the tunnel should run (start/stop), kept across restarts.
CREATE TABLE tunnel_config (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    provider        TEXT    NOT NULL DEFAULT 'none'
                    CHECK (provider IN ('none', 'cloudflared', 'ssh')),
    enabled         INTEGER NOT NULL DEFAULT 0 CHECK (enabled IN (0, 1)),
    has_token       INTEGER NOT NULL DEFAULT 0 CHECK (has_token IN (0, 1)),
    ssh_host        TEXT    NOT NULL DEFAULT '' CHECK (length (ssh_host) <= 253),
    ssh_port        INTEGER NOT NULL DEFAULT 22 CHECK (ssh_port BETWEEN 1 AND 65535),
    ssh_user        TEXT    NOT NULL DEFAULT '' CHECK (length (ssh_user) <= 32),
    ssh_host_key    TEXT    NOT NULL DEFAULT '' CHECK (length (ssh_host_key) <= 1024),
    ssh_remote_host TEXT    NOT NULL DEFAULT 'localhost' CHECK (length (ssh_remote_host) <= 253),
    ssh_remote_port INTEGER NOT NULL DEFAULT 8001 CHECK (ssh_remote_port BETWEEN 1 AND 65535),
    updated_at      INTEGER NOT NULL DEFAULT 0
);
INSERT INTO tunnel_config (id) VALUES (1);
