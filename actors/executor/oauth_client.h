/*  oauth_client.h — the OAuth 2.1 client of external MCP sources past
    discovery (oauth_discover.h): client registration, PKCE and state, the
    authorization URL, the code exchange and the refresh (docs/DESIGN.md,
    section 14). Run by the executor's `source` job; what must be kept
    (verifier, state, tokens) goes to credentials (source_oauth.*), never
    stays here.

    Every request goes through http_fetch with the job's network rules and
    the SSRF rules (the endpoints were checked by discovery already, and
    are checked again by http_fetch, redirects included). Every answer is
    hostile: at most OAUTH_RESPONSE_MAX bytes of one JSON object, each
    field typed and bounded; a token must be visible ASCII (it goes into a
    header).

    The parsers and encoders are pure functions (unit tests, fuzzed by
    tests/fuzz/fuzz_oauth_client.c).
*/
#ifndef MCPBOX_OAUTH_CLIENT_H
#define MCPBOX_OAUTH_CLIENT_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "ssrf.h"

#define OAUTH_RESPONSE_MAX      (64 * 1024)     //  bytes of a token/registration answer
#define OAUTH_TOKEN_MAX         8192            //  bytes of an access or refresh token
#define OAUTH_CLIENT_ID_BYTES   512             //  bytes of a client_id
#define OAUTH_SECRET_MAX        1024            //  bytes of a client_secret
#define OAUTH_SCOPE_BYTES       1024            //  bytes of a scope
#define OAUTH_EXPIRES_MAX       (10LL * 365 * 86400)    //  seconds, expires_in at most
#define OAUTH_AUTH_URL_MAX      8192            //  bytes of the authorization URL
#define OAUTH_FORM_MAX          (OAUTH_TOKEN_MAX * 3 + 8192)    //  a token request's body
#define OAUTH_VERIFIER_LEN      43              //  base64url of 32 random bytes
#define OAUTH_STATE_BYTES       128             //  <source_id>.<43 chars>, with NUL

//  A token endpoint's success answer (RFC 6749 §5.1).
typedef struct {
    char    *access_token;
    char    *refresh_token;         //  NULL when not given
    char    *scope;                 //  NULL when not given
    int64_t  expires_in;            //  seconds; -1 when not given
} oauth_tokens_t;

//  A registration answer (RFC 7591 §3.2.1).
typedef struct {
    char    *client_id;
    char    *client_secret;         //  NULL when none
    char     auth_method [32];      //  token_endpoint_auth_method used at the token endpoint
} oauth_registration_t;

//  Parses a token endpoint's 200 answer: a JSON object whose token_type is
//  Bearer (any case), access_token a visible-ASCII string of 1..OAUTH_TOKEN_MAX
//  bytes, expires_in (optional) an integer 0..OAUTH_EXPIRES_MAX, refresh_token
//  (optional) like access_token, scope (optional) a string. 0, or -1 with why.
int  oauth_tokens_parse (const char *body, size_t len, oauth_tokens_t *out,
                         char *err, size_t errlen);
//  Zeroes and frees what *tokens holds.
void oauth_tokens_clear (oauth_tokens_t *tokens);

//  Parses a registration answer: client_id a visible-ASCII string of
//  1..OAUTH_CLIENT_ID_BYTES, client_secret (optional) likewise up to
//  OAUTH_SECRET_MAX, token_endpoint_auth_method (optional) one of none,
//  client_secret_post, client_secret_basic (default: client_secret_basic
//  with a secret, none without, RFC 7591 §2). redirect_uris (optional,
//  RFC 7591 §3.2.1 echoes what was registered) must then be an array
//  holding redirect_uri exactly (when redirect_uri is not NULL): an AS
//  that registered another one would send the code elsewhere. 0, or -1
//  with why.
int  oauth_registration_parse (const char *body, size_t len, const char *redirect_uri,
                               oauth_registration_t *out, char *err, size_t errlen);
void oauth_registration_clear (oauth_registration_t *reg);

//  An OAuth error answer's "error" (and "error_description"), made safe to
//  show: visible ASCII, bounded. Writes "" when the body holds none.
void oauth_error_text (const char *body, size_t len, char *out, size_t outlen);

//  endpoint + ('?' or '&') + name=value&... each percent-encoded; NULL
//  values are skipped. A new string, or NULL when endpoint has a fragment
//  or the result would exceed OAUTH_AUTH_URL_MAX.
char *oauth_authorize_url (const char *endpoint, const char *const *names,
                           const char *const *values, size_t count);

//  application/x-www-form-urlencoded of the pairs (NULL values skipped).
//  A new string (zero it before freeing: it may hold a secret), or NULL
//  when longer than OAUTH_FORM_MAX.
char *oauth_form_body (const char *const *names, const char *const *values, size_t count);

//  A PKCE pair: verifier = base64url of 32 random bytes, challenge =
//  base64url(SHA-256(verifier)), both 43 characters + NUL.
void oauth_pkce_new (char verifier [OAUTH_VERIFIER_LEN + 1],
                     char challenge [OAUTH_VERIFIER_LEN + 1]);
//  A state: "<source_id>.<base64url of 32 random bytes>". -1 if it does
//  not fit.
int  oauth_state_new (const char *source_id, char *out, size_t outlen);
//  The source id a state names (the part before the dot), checked to be an
//  id of 1..64 bytes of [0-9a-f-]. 0, or -1.
int  oauth_state_source (const char *state, char *out, size_t outlen);

//  --- requests (http_fetch) -----------------------------------------------

typedef struct {
    const net_rules_t *rules;
    int64_t            deadline_ms;     //  zclock_mono
    const atomic_bool *cancel;
} oauth_net_t;

//  Dynamic client registration (RFC 7591) at registration_endpoint for a
//  public client (token_endpoint_auth_method none, PKCE) with this
//  redirect URI. 0, or -1 with why.
int  oauth_register (const oauth_net_t *net, const char *registration_endpoint,
                     const char *redirect_uri, const char *scope,
                     oauth_registration_t *out, char *err, size_t errlen);

//  POSTs form to the token endpoint, authenticating the client as
//  auth_method says (none: client_id in the form, which the caller put
//  there; client_secret_post: client_secret added to the form;
//  client_secret_basic: HTTP Basic). 0 with *out; -1 with why, and
//  *refused true when the server answered (4xx with an OAuth error: the
//  grant is refused) rather than failed to (network, 5xx, malformed).
int  oauth_token_request (const oauth_net_t *net, const char *token_endpoint,
                          const char *form, const char *client_id,
                          const char *client_secret, const char *auth_method,
                          oauth_tokens_t *out, bool *refused, char *err, size_t errlen);

#endif
