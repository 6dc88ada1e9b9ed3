/*  tunnel_conf.h — the tunnel's configuration and where its files are.

    tunnel_conf_t is the one row of tunnel_config (store.c) plus the
    process options that are not the bus's to change (executable paths,
    the forwarded target): a bus client may choose where the tunnel goes,
    never which program runs. tunnel_conf_check() validates every field a
    request may set before anything is stored or put on a command line;
    values reach argv as whole arguments, and none may start with '-'.
*/
#ifndef MCPBOX_TUNNEL_CONF_H
#define MCPBOX_TUNNEL_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "paths.h"

#define TUNNEL_HOST_MAX      253
#define TUNNEL_USER_MAX      32
#define TUNNEL_HOSTKEY_MAX   1024
#define TUNNEL_TOKEN_MAX     4096
#define TUNNEL_TARGET_MAX    280

typedef struct {
    char    provider        [16];                   //  none | cloudflared | ssh
    bool    enabled;                                //  should run
    bool    has_token;                              //  credentials holds one
    char    ssh_host        [TUNNEL_HOST_MAX + 1];
    int     ssh_port;
    char    ssh_user        [TUNNEL_USER_MAX + 1];
    char    ssh_host_key    [TUNNEL_HOSTKEY_MAX + 1];   //  "TYPE BASE64"
    char    ssh_remote_host [TUNNEL_HOST_MAX + 1];
    int     ssh_remote_port;
    int64_t updated_at;
} tunnel_conf_t;

//  Process options (main.c) and the files the actor keeps.
typedef struct {
    char ssh_path        [PATHS_MAX];   //  absolute
    char ssh_keygen_path [PATHS_MAX];
    char cloudflared_path[PATHS_MAX];
    char target          [TUNNEL_TARGET_MAX + 1];   //  "host:port" forwarded to
    int  server_alive_s;                //  ssh ServerAliveInterval
    char dir             [PATHS_MAX + 32];   //  DATA/tunnel (0700)
    char key_path        [PATHS_MAX + 32];   //  DATA/tunnel/id_ed25519 (0600)
    char known_hosts     [PATHS_MAX + 32];   //  DATA/tunnel/known_hosts (0600)
} tunnel_files_t;

//  A host name or address: 1..253 of [A-Za-z0-9.-:], not starting with
//  '-' or '.' (an IPv6 address is given bare, without brackets).
bool tunnel_host_valid (const char *host);
//  A user name: 1..32 of [a-z0-9_.-], starting with a letter or '_'.
bool tunnel_user_valid (const char *user);
//  "TYPE BASE64" (a trailing comment is dropped into out): TYPE one of
//  ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa; BASE64 16..900
//  characters of the base64 alphabet. 0 (normalised into out), or -1.
int  tunnel_host_key_parse (const char *text, char *out, size_t size);
//  The HostKeyAlgorithms value for a pinned key ("ssh-ed25519", or
//  "rsa-sha2-512,rsa-sha2-256" for ssh-rsa).
const char *tunnel_host_key_algorithms (const char *normalised);
//  A cloudflared token: 32..4096 of [A-Za-z0-9+/=_-].
bool tunnel_token_valid (const char *token, size_t len);
//  "host:port" (host as above, or [v6]:port), port 1..65535.
bool tunnel_target_valid (const char *target);
//  Is this configuration complete enough to run? NULL, or what is missing.
const char *tunnel_conf_incomplete (const tunnel_conf_t *conf);

#endif
