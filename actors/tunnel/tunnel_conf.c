/*  tunnel_conf.c — validation of every configurable tunnel field
    (tunnel_conf.h). Strict whitelists: these values end up as arguments
    of ssh, whose option parser must never see one of them as an option.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tunnel_conf.h"

bool
tunnel_host_valid (const char *host)
{
    size_t len = strlen (host);
    if (len == 0 || len > TUNNEL_HOST_MAX || host [0] == '-' || host [0] == '.')
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = host [i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '.' || c == '-' || c == ':'))
            return false;
    }
    return true;
}

bool
tunnel_user_valid (const char *user)
{
    size_t len = strlen (user);
    if (len == 0 || len > TUNNEL_USER_MAX)
        return false;
    if (!((user [0] >= 'a' && user [0] <= 'z') || user [0] == '_'))
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = user [i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.'
              || c == '-'))
            return false;
    }
    return true;
}

static const struct {
    const char *type;
    const char *algorithms;
} s_key_types [] = {
    { "ssh-ed25519",         "ssh-ed25519" },
    { "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256" },
    { "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384" },
    { "ecdsa-sha2-nistp521", "ecdsa-sha2-nistp521" },
    { "ssh-rsa",             "rsa-sha2-512,rsa-sha2-256" },
};

static bool
s_base64_char (char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '+' || c == '/' || c == '=';
}

int
tunnel_host_key_parse (const char *text, char *out, size_t size)
{
    //  TYPE, one space or more, BASE64, then optionally whitespace + comment
    const char *space = strchr (text, ' ');
    if (!space)
        return -1;
    size_t type_len = (size_t) (space - text);
    const char *algorithms = NULL;
    for (size_t i = 0; i < sizeof s_key_types / sizeof s_key_types [0]; i++)
        if (strlen (s_key_types [i].type) == type_len
        &&  memcmp (s_key_types [i].type, text, type_len) == 0)
            algorithms = s_key_types [i].algorithms;
    if (!algorithms)
        return -1;
    const char *blob = space;
    while (*blob == ' ')
        blob++;
    size_t blob_len = 0;
    while (s_base64_char (blob [blob_len]))
        blob_len++;
    char after = blob [blob_len];
    if (blob_len < 16 || blob_len > 900 || (after != '\0' && after != ' ' && after != '\n'))
        return -1;
    //  anything after is a comment: printable only, dropped; a newline
    //  only as the very last byte (so no second known_hosts line)
    for (const char *c = blob + blob_len; *c; c++)
        if (((unsigned char) *c < 0x20 || (unsigned char) *c > 0x7e)
        &&  !(*c == '\n' && c [1] == '\0'))
            return -1;
    if (type_len + 1 + blob_len + 1 > size)
        return -1;
    snprintf (out, size, "%.*s %.*s", (int) type_len, text, (int) blob_len, blob);
    return 0;
}

const char *
tunnel_host_key_algorithms (const char *normalised)
{
    for (size_t i = 0; i < sizeof s_key_types / sizeof s_key_types [0]; i++) {
        size_t n = strlen (s_key_types [i].type);
        if (strncmp (normalised, s_key_types [i].type, n) == 0 && normalised [n] == ' ')
            return s_key_types [i].algorithms;
    }
    return NULL;
}

bool
tunnel_token_valid (const char *token, size_t len)
{
    if (len < 32 || len > TUNNEL_TOKEN_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = token [i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '+' || c == '/' || c == '=' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

bool
tunnel_target_valid (const char *target)
{
    size_t len = strlen (target);
    if (len < 3 || len > TUNNEL_TARGET_MAX)
        return false;
    const char *colon = strrchr (target, ':');
    if (!colon || colon == target)
        return false;
    char host [TUNNEL_TARGET_MAX + 1];
    size_t host_len = (size_t) (colon - target);
    memcpy (host, target, host_len);
    host [host_len] = '\0';
    if (host [0] == '[') {                  //  [v6]
        if (host_len < 3 || host [host_len - 1] != ']')
            return false;
        memmove (host, host + 1, host_len - 2);
        host [host_len - 2] = '\0';
        if (!strchr (host, ':'))
            return false;
    }
    else
    if (strchr (host, ':'))
        return false;                       //  a bare v6 needs brackets here
    if (!tunnel_host_valid (host))
        return false;
    const char *port = colon + 1;
    if (!*port || strlen (port) > 5)
        return false;
    for (const char *c = port; *c; c++)
        if (*c < '0' || *c > '9')
            return false;
    long value = strtol (port, NULL, 10);
    return value >= 1 && value <= 65535;
}

const char *
tunnel_conf_incomplete (const tunnel_conf_t *conf)
{
    if (strcmp (conf->provider, "cloudflared") == 0)
        return conf->has_token ? NULL : "no cloudflared token is configured";
    if (strcmp (conf->provider, "ssh") == 0) {
        if (!conf->ssh_host [0])
            return "no ssh_host is configured";
        if (!conf->ssh_user [0])
            return "no ssh_user is configured";
        if (!conf->ssh_host_key [0])
            return "no ssh_host_key is configured (the server's public host key to pin)";
        return NULL;
    }
    return "no tunnel provider is configured";
}
