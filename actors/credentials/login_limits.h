/*  login_limits.h — failed logins per client address and per username.

    Failures are rows in login_failures (so a restart of this actor or of
    any gateway keeps them). When either subject has login_max_failures
    failures inside the last login_window_s seconds, every login for it is
    refused — the right password too — until the oldest of them leaves the
    window; the refusal says when (retry_after, seconds).
*/
#ifndef MCPBOX_CREDS_LOGIN_LIMITS_H
#define MCPBOX_CREDS_LOGIN_LIMITS_H

#include "creds.h"

//  0 allowed; >0 seconds to wait; -1 database error.
int64_t login_limits_check (creds_t *self, const char *client, const char *username);
//  Count a failure against both subjects.
int     login_limits_fail (creds_t *self, const char *client, const char *username);
//  Forget a username's failures (a password reset by the operator).
void    login_limits_clear_user (creds_t *self, const char *username);
//  Drop failures older than the window (tick).
void    login_limits_prune (creds_t *self);

#endif
