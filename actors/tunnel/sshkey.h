/*  sshkey.h — the tunnel's own SSH key and the pinned host key file.

    The key pair is made once, by ssh-keygen (ed25519, no passphrase: the
    actor must start unattended), in DATA/tunnel/id_ed25519 (0600; the
    directory 0700) and kept: the admin installs its public half in the
    server's authorized_keys once. known_hosts is rewritten (atomically,
    0600) from the configured host key before every start, so the file
    always says exactly what the configuration pins.
*/
#ifndef MCPBOX_TUNNEL_SSHKEY_H
#define MCPBOX_TUNNEL_SSHKEY_H

#include <stddef.h>
#include "tunnel_conf.h"

#define SSHKEY_PUBLIC_MAX 256

//  DATA/tunnel exists with mode 0700 (tightened if wider). 0 or -1 + err.
int sshkey_dir_ensure (const tunnel_files_t *files, char *err, size_t errlen);
//  The key pair exists (made now if not); its public line ("ssh-ed25519
//  AAAA... mcpbox-tunnel") in public_key. 0 or -1 + err.
int sshkey_ensure (const tunnel_files_t *files, char *public_key, size_t size,
                   char *err, size_t errlen);
//  The public line if the key exists; "" otherwise.
void sshkey_public (const tunnel_files_t *files, char *public_key, size_t size);
//  known_hosts := "mcpbox-tunnel <host_key>\n". 0 or -1 + err.
int sshkey_write_known_hosts (const tunnel_files_t *files, const char *host_key,
                              char *err, size_t errlen);

#endif
