/*  cmd_executor.c — `mcpbox executor`: run this machine as an executor host
    of a broker on another machine.

      mcpbox executor --broker tcp://HOST:PORT --broker-key BROKER_PUBLIC_CERT
                      --key-file THIS_HOST_SECRET_CERT [--slots N] [--label L]…

    No database and no data directory of its own: the host keeps its two
    certificate files (its own pair from `mcpbox keygen`, the broker's public
    one) and the executor's 0700 run directory beside them. The command
    checks the line and replaces itself with mcpbox-executor (the same
    binary the main machine runs), joined over tcp:// with CURVE; the main
    machine must allow the host's key first (`mcpbox executors allow`).
    --slots is the number of calls it runs at once: its credit, which the
    broker balances by. Each --label (NAME or NAME=VALUE: "gpu", "zone=lab")
    is announced with the host's registration (the executor's --labels, which
    checks them), so the pool's figures (`mcpbox status`, the dashboard) show
    them.
*/
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "startup.h"

#define S_LABELS_MAX 2048

static bool
s_regular_file (const char *path)
{
    struct stat st;
    return stat (path, &st) == 0 && S_ISREG (st.st_mode);
}

static int
s_run (config_t *config, const char *labels)
{
    const char *broker = config_str (config, "broker");
    const char *broker_key = config_str (config, "broker_key");
    const char *key_file = config_str (config, "key_file");
    int slots = (int) config_int (config, "slots");
    if (strncmp (broker, "tcp://", 6) != 0 || !broker [6]) {
        fprintf (stderr, "mcpbox executor: --broker must be tcp://HOST:PORT\n");
        return CLI_EXIT_USAGE;
    }
    if (!*broker_key || !s_regular_file (broker_key)) {
        fprintf (stderr, "mcpbox executor: --broker-key must name the broker's public "
                 "certificate file\n");
        return CLI_EXIT_USAGE;
    }
    if (!*key_file || !s_regular_file (key_file)) {
        fprintf (stderr, "mcpbox executor: --key-file must name this host's secret "
                 "certificate file (mcpbox keygen --out PATH makes PATH_secret)\n");
        return CLI_EXIT_USAGE;
    }
    char executor [PATHS_MAX];
    if (cli_executor_path (executor, sizeof executor) != 0) {
        fprintf (stderr, "mcpbox executor: mcpbox-executor not found next to mcpbox\n");
        return CLI_EXIT_FAIL;
    }
    //  the run directory lives beside the keys: nothing else is kept
    char keys [PATHS_MAX];
    snprintf (keys, sizeof keys, "%s", key_file);
    const char *data_dir = dirname (keys);
    char credit [16];
    snprintf (credit, sizeof credit, "%d", slots);
    execl (executor, executor, "--broker", broker, "--broker-key", broker_key,
           "--cert", key_file, "--credit", credit, "--data-dir", data_dir,
           "--labels", labels, "--log-level", config_str (config, "log_level"),
           (char *) NULL);
    fprintf (stderr, "mcpbox executor: cannot run %s: %s\n", executor, strerror (errno));
    return CLI_EXIT_FAIL;
}

static const config_option_t s_options [] = {
    { .key = "broker", .type = CONFIG_STR, .default_value = "",
      .help = "the broker's tcp://HOST:PORT (its --tcp-endpoint)", .flag_only = true },
    { .key = "broker_key", .type = CONFIG_STR, .default_value = "",
      .help = "the broker's public certificate file", .flag_only = true },
    { .key = "key_file", .type = CONFIG_STR, .default_value = "",
      .help = "this host's secret certificate file", .flag_only = true },
    { .key = "slots", .type = CONFIG_INT, .default_value = "4", .min = 1, .max = 64,
      .help = "tool calls this host runs at once", .flag_only = true },
    { .key = NULL }
};

#define S_USAGE \
    "usage: mcpbox executor --broker tcp://HOST:PORT --broker-key BROKER_CERT\n" \
    "                       --key-file SECRET_CERT [--slots N] [--label L]...\n\n" \
    "Joins the broker on the main machine, which must allow this host's\n" \
    "public key first (mcpbox executors allow KEY --name NAME). --label\n" \
    "NAME or NAME=VALUE (repeatable) is announced with the host."

//  --label repeats, which the option table cannot hold: the labels are taken
//  out of argv here, the rest goes through the usual start-up.
static int
s_run_argv (int argc, char **argv)
{
    char labels [S_LABELS_MAX] = "";
    char **rest = calloc ((size_t) argc + 1, sizeof *rest);
    if (!rest)
        return CLI_EXIT_FAIL;
    int count = 0;
    for (int i = 0; i < argc; i++) {
        const char *label = NULL;
        if (strcmp (argv [i], "--label") == 0) {
            if (i + 1 == argc) {
                fprintf (stderr, "mcpbox executor: --label needs a value\n");
                free (rest);
                return CLI_EXIT_USAGE;
            }
            label = argv [++i];
        }
        else
        if (strncmp (argv [i], "--label=", 8) == 0)
            label = argv [i] + 8;
        else {
            rest [count++] = argv [i];
            continue;
        }
        size_t used = strlen (labels);
        if (strchr (label, ',')
        ||  snprintf (labels + used, sizeof labels - used, "%s%s", used ? "," : "", label)
            >= (int) (sizeof labels - used)) {
            fprintf (stderr, "mcpbox executor: --label '%.64s': one NAME or NAME=VALUE "
                     "per flag, without a comma\n", label);
            free (rest);
            return CLI_EXIT_USAGE;
        }
    }
    const startup_def_t def = {
        .process   = "mcpbox executor",
        .log_name  = "mcpbox",
        .usage     = S_USAGE,
        .options   = s_options,
        .read_only = true,
        .max_args  = 1,                 //  argv [0] is the command
    };
    startup_t startup;
    int status = startup_configure (&startup, &def, count, rest);
    int rc = status == STARTUP_GO ? s_run (startup.config, labels)
           : status == STARTUP_EXIT_OK ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    if (status == STARTUP_GO)
        startup_release (&startup);
    free (rest);
    return rc;
}

const cli_command_t cli_cmd_executor = {
    .name    = "executor",
    .summary = "run this machine as a remote executor host (tcp:// + CURVE)",
    .usage    = S_USAGE,
    .options  = s_options,
    .run_argv = s_run_argv,
};
