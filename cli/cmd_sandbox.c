/*  cmd_sandbox.c — `mcpbox sandbox run|validate FILE.py [options]`.

    Runs a file through exactly the executor's path (zygote, fork, rlimits,
    seccomp) without the rest of the system: it starts mcpbox-executor
    --oneshot, hands it the request on stdin and prints one JSON object:
      run:      {success, result, error, stdout, stdout_truncated, duration_ms}
      validate: {valid, has_main, error, parameters, input_schema, ...}
    Exit 0 when the tool succeeded (or the code is valid), 1 when it failed,
    2 on a usage error.

    Flags repeat (--allow-host, --module, --secret), so this command parses
    its own argv instead of using config.h.
*/
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cli.h"

#define S_FILE_MAX   (1024 * 1024)  //  the executor refuses > 100 KB itself
#define S_OUTPUT_MAX (64u << 20)

static const char *s_usage =
    "usage: mcpbox sandbox run FILE.py [--args JSON] [--allow-host H]...\n"
    "                          [--policy allow_all_public] [--module M]...\n"
    "                          [--secret KEY=VALUE]... [--timeout SECONDS]\n"
    "       mcpbox sandbox validate FILE.py\n\n"
    "Runs (or validates) tool code through the same sandbox the executor uses\n"
    "and prints the result as one JSON object. Exit 0: success, 1: the tool\n"
    "failed, 2: usage error.\n";

static int
s_usage_error (const char *message, const char *detail)
{
    fprintf (stderr, "mcpbox sandbox: %s%s%s\n(see mcpbox sandbox --help)\n",
             message, detail ? ": " : "", detail ? detail : "");
    return CLI_EXIT_USAGE;
}

static char *
s_read_file (const char *path, size_t *size)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return NULL;
    char *data = malloc (S_FILE_MAX + 1);
    *size = data ? fread (data, 1, S_FILE_MAX + 1, file) : 0;
    fclose (file);
    if (data)
        data [*size < S_FILE_MAX ? *size : S_FILE_MAX] = 0;
    return data;
}

int
cli_executor_path (char *path, size_t size)
{
    ssize_t n = readlink ("/proc/self/exe", path, size - 32);
    if (n <= 0)
        return -1;
    path [n] = 0;
    char *slash = strrchr (path, '/');
    if (!slash)
        return -1;
    strcpy (slash + 1, "mcpbox-executor");
    return access (path, X_OK);
}

//  Run mcpbox-executor --oneshot with `request` on stdin; its stdout back.
static char *
s_run_executor (const char *request, int *status)
{
    char executor [4096];
    if (cli_executor_path (executor, sizeof executor) != 0) {
        fprintf (stderr, "mcpbox sandbox: mcpbox-executor not found next to mcpbox\n");
        return NULL;
    }
    int input = memfd_create ("sandbox-request", MFD_CLOEXEC);
    size_t length = strlen (request);
    if (input < 0 || write (input, request, length) != (ssize_t) length
    ||  lseek (input, 0, SEEK_SET) != 0) {
        fprintf (stderr, "mcpbox sandbox: cannot pass the request: %s\n", strerror (errno));
        return NULL;
    }
    int out [2];
    if (pipe2 (out, O_CLOEXEC) != 0)
        return NULL;
    pid_t pid = fork ();
    if (pid == 0) {
        dup2 (input, 0);
        dup2 (out [1], 1);
        execl (executor, executor, "--oneshot", "--log-level", "warn", (char *) NULL);
        _exit (127);
    }
    close (input);
    close (out [1]);
    size_t size = 0, capacity = 65536;
    char *output = malloc (capacity);
    while (output) {
        if (size + 1 == capacity) {
            if (capacity >= S_OUTPUT_MAX)
                break;
            capacity *= 2;
            char *grown = realloc (output, capacity);
            if (!grown)
                break;
            output = grown;
        }
        ssize_t n = read (out [0], output + size, capacity - size - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        size += (size_t) n;
    }
    close (out [0]);
    if (output)
        output [size] = 0;
    waitpid (pid, status, 0);
    return output;
}

static int
s_append (json_t *list, const char *value)
{
    return json_array_append_new (list, json_string (value));
}

static int
s_sandbox (int argc, char **argv)
{
    //  argv [0] is "sandbox"
    if (argc >= 2 && (!strcmp (argv [1], "--help") || !strcmp (argv [1], "-h"))) {
        fputs (s_usage, stdout);
        return CLI_EXIT_OK;
    }
    if (argc < 3)
        return s_usage_error ("need a subcommand and a file", NULL);
    const char *mode = argv [1];
    if (strcmp (mode, "run") && strcmp (mode, "validate"))
        return s_usage_error ("unknown subcommand", mode);

    json_t *request = json_pack ("{s:s}", "op", mode);
    json_t *hosts = json_array (), *modules = json_array (), *secrets = json_object ();
    const char *file = NULL;
    int rc = CLI_EXIT_USAGE;
    for (int i = 2; i < argc; i++) {
        const char *arg = argv [i];
        const char *value = i + 1 < argc ? argv [i + 1] : NULL;
        bool takes = !strcmp (arg, "--args") || !strcmp (arg, "--allow-host")
                  || !strcmp (arg, "--policy") || !strcmp (arg, "--module")
                  || !strcmp (arg, "--secret") || !strcmp (arg, "--timeout")
                  || !strcmp (arg, "--data-dir") || !strcmp (arg, "--log-level");
        if (!strcmp (arg, "--help") || !strcmp (arg, "-h")) {
            fputs (s_usage, stdout);
            rc = CLI_EXIT_OK;
            goto done;
        }
        if (takes && !value) {
            s_usage_error ("missing value for", arg);
            goto done;
        }
        if (!strcmp (arg, "--args")) {
            json_error_t error;
            json_t *arguments = json_loads (value, JSON_REJECT_DUPLICATES, &error);
            if (!json_is_object (arguments)) {
                json_decref (arguments);
                s_usage_error ("--args must be a JSON object", error.text);
                goto done;
            }
            json_object_set_new (request, "arguments", arguments);
        }
        else
        if (!strcmp (arg, "--allow-host"))
            s_append (hosts, value);
        else
        if (!strcmp (arg, "--module"))
            s_append (modules, value);
        else
        if (!strcmp (arg, "--policy")) {
            if (strcmp (value, "allow_all_public") && strcmp (value, "allowlist")) {
                s_usage_error ("--policy is allowlist or allow_all_public", value);
                goto done;
            }
            json_object_set_new (request, "network_policy", json_string (value));
        }
        else
        if (!strcmp (arg, "--secret")) {
            const char *equals = strchr (value, '=');
            if (!equals || equals == value) {
                s_usage_error ("--secret takes KEY=VALUE", NULL);
                goto done;
            }
            json_object_setn_new (secrets, value, (size_t) (equals - value), json_string (equals + 1));
        }
        else
        if (!strcmp (arg, "--timeout")) {
            char *end;
            double seconds = strtod (value, &end);
            if (*end || seconds <= 0 || seconds > 300) {
                s_usage_error ("--timeout is seconds, up to 300", value);
                goto done;
            }
            json_object_set_new (request, "timeout_ms", json_integer ((json_int_t) (seconds * 1000)));
        }
        else
        if (takes)
            ;                   //  --data-dir, --log-level: accepted, not needed
        else
        if (arg [0] == '-') {
            s_usage_error ("unknown flag", arg);
            goto done;
        }
        else
        if (!file) {
            file = arg;
            continue;
        }
        else {
            s_usage_error ("unexpected argument", arg);
            goto done;
        }
        if (takes)
            i++;
    }
    if (!file) {
        s_usage_error ("need a file", NULL);
        goto done;
    }
    size_t size = 0;
    char *code = s_read_file (file, &size);
    if (!code) {
        fprintf (stderr, "mcpbox sandbox: cannot read %s: %s\n", file, strerror (errno));
        rc = CLI_EXIT_USAGE;
        goto done;
    }
    json_t *code_text = json_stringn (code, size);
    free (code);
    if (!code_text) {
        s_usage_error ("the file is not UTF-8 text", file);
        goto done;
    }
    json_object_set_new (request, "code", code_text);
    json_object_set (request, "allowed_hosts", hosts);
    json_object_set (request, "extra_modules", modules);
    json_object_set (request, "secrets", secrets);

    char *text = json_dumps (request, JSON_COMPACT);
    int status = 0;
    char *output = text ? s_run_executor (text, &status) : NULL;
    free (text);
    //  a tool's stdout, error message and result may hold U+0000
    json_t *result = output ? json_loads (output, JSON_ALLOW_NUL, NULL) : NULL;
    free (output);
    if (!json_is_object (result)) {
        json_decref (result);
        rc = WIFEXITED (status) && WEXITSTATUS (status) == 2 ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
        goto done;
    }
    if (!strcmp (mode, "run")) {
        //  result_json (the tool's value as JSON text) becomes `result`
        const char *result_json = json_string_value (json_object_get (result, "result_json"));
        json_t *value = result_json ? json_loads (result_json, JSON_DECODE_ANY | JSON_ALLOW_NUL,
                                                  NULL) : json_null ();
        json_object_set_new (result, "result", value ? value : json_null ());
        json_object_del (result, "result_json");
        if (!json_object_get (result, "error"))
            json_object_set_new (result, "error", json_null ());
    }
    json_dumpf (result, stdout, JSON_INDENT (2));
    fputc ('\n', stdout);
    bool good = json_is_true (json_object_get (result, !strcmp (mode, "run") ? "success" : "valid"));
    rc = good ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    json_decref (result);
done:
    json_decref (hosts);
    json_decref (modules);
    json_decref (secrets);
    json_decref (request);
    return rc;
}

const cli_command_t cli_cmd_sandbox = {
    .name     = "sandbox",
    .summary  = "run or validate a tool file in the sandbox (no other service needed)",
    .usage    = "usage: mcpbox sandbox run|validate FILE.py [options]",
    .options  = NULL,
    .run      = NULL,
    .run_argv = s_sandbox,
};
