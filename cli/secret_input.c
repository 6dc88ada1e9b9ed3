/*  secret_input.c — read a password or a secret value from standard input
    (cli.h), never from the command line: argv is visible to every user in
    the process list.

    A terminal gets a prompt with echo off (and, with confirm, a second
    prompt that must match); anything else (a pipe, a file) is read to its
    end. One trailing newline ("\n" or "\r\n") is dropped, so
    `printf 'v\n' | mcpbox secrets set ...` stores "v". Input longer than
    the buffer is refused rather than cut.
*/
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sodium.h>

#include "cli.h"

//  Read up to size-1 bytes to EOF (or to the end of a line on a terminal).
static int
s_read (int fd, bool line, char *buf, size_t size, size_t *len)
{
    size_t got = 0;
    while (true) {
        char c;
        ssize_t rc = read (fd, &c, 1);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            break;
        if (line && c == '\n')
            break;
        if (got + 1 >= size) {
            sodium_memzero (buf, size);
            return -1;
        }
        buf [got++] = c;
    }
    if (!line && got && buf [got - 1] == '\n')
        got--;
    if (got && buf [got - 1] == '\r')
        got--;
    buf [got] = 0;
    *len = got;
    return 0;
}

static int
s_prompt (const char *prompt, char *buf, size_t size, size_t *len)
{
    struct termios old, quiet;
    fprintf (stderr, "%s", prompt);
    fflush (stderr);
    bool restore = tcgetattr (STDIN_FILENO, &old) == 0;
    if (restore) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t) ECHO;
        tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    int rc = s_read (STDIN_FILENO, true, buf, size, len);
    if (restore)
        tcsetattr (STDIN_FILENO, TCSAFLUSH, &old);
    fputc ('\n', stderr);
    return rc;
}

int
cli_read_secret (const char *prompt, bool confirm, char *buf, size_t size, size_t *len)
{
    if (!isatty (STDIN_FILENO))
        return s_read (STDIN_FILENO, false, buf, size, len);
    if (s_prompt (prompt, buf, size, len) != 0)
        return -1;
    if (!confirm)
        return 0;
    char again [size];
    size_t again_len = 0;
    int rc = s_prompt ("again: ", again, size, &again_len);
    if (rc == 0 && (again_len != *len || sodium_memcmp (again, buf, *len) != 0)) {
        fprintf (stderr, "the two entries differ\n");
        rc = -1;
    }
    sodium_memzero (again, size);
    if (rc != 0)
        sodium_memzero (buf, size);
    return rc;
}

void
cli_msgw_wipe (msgw_t **body_p)
{
    if (body_p && *body_p) {
        sodium_memzero ((void *) msgw_data (*body_p), msgw_size (*body_p));
        msgw_destroy (body_p);
    }
}
