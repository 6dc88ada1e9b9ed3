/*  test_supervisor.c — the child supervisor of `mcpbox up`, on real processes.

    Drives cli/supervisor.c with /bin/sh and /bin/sleep: restart after an
    exit, the backoff sequence and its reset after a stable run, the cause
    of death, stop order (the first child last), SIGKILL for a child that
    ignores SIGTERM, nothing left behind after stop_all, no orphans when the
    supervising process is SIGKILLed, and bad input to supervisor_add.

    Links cli/'s mcpbox_supervisor library.
*/
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"
#include "supervisor.h"

static const supervisor_config_t s_fast = {
    .backoff_min_ms  = 50,
    .backoff_max_ms  = 200,
    .stable_after_ms = 10000,
};

static int64_t
s_test_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

//  Poll until the child at `index` has exited and a restart is scheduled.
static bool
s_wait_exit (supervisor_t *sup, int index, int timeout_ms)
{
    int64_t deadline = s_test_now_ms () + timeout_ms;
    while (s_test_now_ms () < deadline) {
        supervisor_on_child_exit (sup);
        if (supervisor_restart_pending (sup, index))
            return true;
        usleep (2000);
    }
    return false;
}

//  Poll until the scheduled restart happened; returns the ms it took.
static int
s_wait_restart (supervisor_t *sup, int index, int timeout_ms)
{
    int64_t start = s_test_now_ms ();
    while (s_test_now_ms () - start < timeout_ms) {
        supervisor_restart_due (sup);
        if (supervisor_pid (sup, index) > 0)
            return (int) (s_test_now_ms () - start);
        usleep (2000);
    }
    return -1;
}

//  True if pid is gone or a zombie nobody of ours can reap (reparented).
static bool
s_process_gone (pid_t pid)
{
    if (kill (pid, 0) == -1 && errno == ESRCH)
        return true;
    char path [64], stat [256] = "";
    snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
    FILE *file = fopen (path, "r");
    if (!file)
        return true;
    size_t got = fread (stat, 1, sizeof stat - 1, file);
    fclose (file);
    stat [got] = '\0';
    const char *paren = strrchr (stat, ')');
    return paren && paren [1] == ' ' && paren [2] == 'Z';
}

static bool
s_wait_gone (pid_t pid, int timeout_ms)
{
    int64_t deadline = s_test_now_ms () + timeout_ms;
    while (s_test_now_ms () < deadline) {
        if (s_process_gone (pid))
            return true;
        usleep (10000);
    }
    return false;
}

//  How many lines of the file are exactly `line`.
static int
s_count_lines (const char *path, const char *line)
{
    FILE *file = fopen (path, "r");
    if (!file)
        return 0;
    char buf [128];
    int count = 0;
    while (fgets (buf, sizeof buf, file)) {
        buf [strcspn (buf, "\n")] = '\0';
        if (strcmp (buf, line) == 0)
            count++;
    }
    fclose (file);
    return count;
}

static void
s_assert_no_children (void)
{
    errno = 0;
    assert_int_equal (waitpid (-1, NULL, WNOHANG), -1);
    assert_int_equal (errno, ECHILD);
}

//  --------------------------------------------------------------------------

static void
test_restart_with_backoff (void **state)
{
    (void) state;
    supervisor_t *sup = supervisor_new (&s_fast);
    assert_non_null (sup);
    const char *argv [] = { "/bin/sh", "-c", "exit 3", NULL };
    int index = supervisor_add (sup, "exits-3", argv);
    assert_int_equal (index, 0);
    assert_int_equal (supervisor_last_status (sup, index), -1);
    assert_int_equal (supervisor_start (sup), 0);

    const int expected [] = { 50, 100, 200, 200, 200 };
    pid_t previous = 0;
    for (size_t round = 0; round < sizeof expected / sizeof expected [0]; round++) {
        pid_t pid = supervisor_pid (sup, index);
        assert_true (pid > 0);
        assert_int_not_equal (pid, previous);
        previous = pid;

        assert_true (s_wait_exit (sup, index, 3000));
        int status = supervisor_last_status (sup, index);
        assert_true (WIFEXITED (status));
        assert_int_equal (WEXITSTATUS (status), 3);
        assert_int_equal (supervisor_last_delay_ms (sup, index), expected [round]);
        assert_int_equal (supervisor_pid (sup, index), 0);

        int took = s_wait_restart (sup, index, 3000);
        assert_true (took >= 0);
        //  Never early (allow 5 ms for the time between exit and our poll).
        assert_true (took >= expected [round] - 5);
        assert_int_equal (supervisor_restarts (sup, index), (int) round + 1);
    }
    supervisor_stop_all (sup, 1000);
    supervisor_destroy (&sup);
    assert_null (sup);
    s_assert_no_children ();
}

static void
test_backoff_resets_after_stable_run (void **state)
{
    (void) state;
    const supervisor_config_t config = {
        .backoff_min_ms = 50, .backoff_max_ms = 400, .stable_after_ms = 100
    };
    supervisor_t *sup = supervisor_new (&config);
    assert_non_null (sup);
    //  Runs 250 ms (longer than stable_after_ms), then fails.
    const char *argv [] = { "/bin/sh", "-c", "sleep 0.25; exit 1", NULL };
    int index = supervisor_add (sup, "slow-fail", argv);
    assert_int_equal (supervisor_start (sup), 0);
    for (int round = 0; round < 3; round++) {
        assert_true (s_wait_exit (sup, index, 3000));
        assert_int_equal (supervisor_last_delay_ms (sup, index), 50);
        assert_true (s_wait_restart (sup, index, 3000) >= 0);
    }
    supervisor_destroy (&sup);
    s_assert_no_children ();
}

static void
test_killed_by_signal_is_restarted (void **state)
{
    (void) state;
    supervisor_t *sup = supervisor_new (&s_fast);
    const char *argv [] = { "/bin/sleep", "30", NULL };
    int index = supervisor_add (sup, "sleeper", argv);
    assert_int_equal (supervisor_start (sup), 0);
    pid_t first = supervisor_pid (sup, index);
    assert_true (first > 0);
    assert_false (supervisor_restart_pending (sup, index));
    assert_int_equal (supervisor_restart_due (sup), -1);   //  nothing scheduled

    assert_int_equal (kill (first, SIGKILL), 0);
    assert_true (s_wait_exit (sup, index, 3000));
    int status = supervisor_last_status (sup, index);
    assert_true (WIFSIGNALED (status));
    assert_int_equal (WTERMSIG (status), SIGKILL);
    int next = supervisor_restart_due (sup);
    assert_true (next >= 0 && next <= 50);

    assert_true (s_wait_restart (sup, index, 3000) >= 0);
    pid_t second = supervisor_pid (sup, index);
    assert_true (second > 0);
    assert_int_not_equal (second, first);
    assert_true (s_process_gone (first));

    assert_int_equal (supervisor_stop_all (sup, 2000), 0);
    assert_int_equal (supervisor_pid (sup, index), 0);
    status = supervisor_last_status (sup, index);
    assert_true (WIFSIGNALED (status));
    assert_int_equal (WTERMSIG (status), SIGTERM);
    supervisor_destroy (&sup);
    s_assert_no_children ();
}

static void
test_stop_all_order_and_sigkill (void **state)
{
    (void) state;
    char log_path [] = "/tmp/test_supervisor_XXXXXX";
    int fd = mkstemp (log_path);
    assert_true (fd >= 0);
    close (fd);

    supervisor_t *sup = supervisor_new (&s_fast);
    //  Each polite child appends its name to the log when asked to stop.
    char scripts [3][256];
    const char *names [] = { "hub", "first", "second" };
    for (int i = 0; i < 3; i++) {
        snprintf (scripts [i], sizeof scripts [i],
                  "trap 'echo %s >> %s; exit 0' TERM; echo ready >> %s; "
                  "while true; do sleep 0.02; done", names [i], log_path, log_path);
        const char *argv [] = { "/bin/sh", "-c", scripts [i], NULL };
        assert_int_equal (supervisor_add (sup, names [i], argv), i);
    }
    //  This one ignores SIGTERM (the ignore survives exec) and needs SIGKILL.
    char stubborn_script [256];
    snprintf (stubborn_script, sizeof stubborn_script,
              "trap '' TERM; echo ready >> %s; exec /bin/sleep 30", log_path);
    const char *stubborn [] = { "/bin/sh", "-c", stubborn_script, NULL };
    int stubborn_index = supervisor_add (sup, "stubborn", stubborn);
    assert_int_equal (stubborn_index, 3);
    assert_int_equal (supervisor_start (sup), 0);
    assert_int_equal (supervisor_size (sup), 4);
    //  Wait until all four shells have set their traps.
    int64_t deadline = s_test_now_ms () + 5000;
    while (s_count_lines (log_path, "ready") < 4) {
        assert_true (s_test_now_ms () < deadline);
        usleep (5000);
    }

    pid_t pids [4];
    for (int i = 0; i < 4; i++) {
        pids [i] = supervisor_pid (sup, i);
        assert_true (pids [i] > 0);
    }
    int64_t start = s_test_now_ms ();
    assert_int_equal (supervisor_stop_all (sup, 300), 1);
    int64_t took = s_test_now_ms () - start;
    assert_true (took >= 300);          //  waited for the stubborn one
    assert_true (took < 2500);

    for (int i = 0; i < 4; i++) {
        assert_int_equal (supervisor_pid (sup, i), 0);
        assert_true (s_process_gone (pids [i]));
    }
    int status = supervisor_last_status (sup, stubborn_index);
    assert_true (WIFSIGNALED (status));
    assert_int_equal (WTERMSIG (status), SIGKILL);
    s_assert_no_children ();

    //  Nothing restarts after a stop.
    assert_int_equal (supervisor_restart_due (sup), -1);
    assert_int_equal (supervisor_on_child_exit (sup), 0);
    assert_int_equal (supervisor_start (sup), -1);

    //  The hub (first added) was asked last.
    char text [256] = "";
    FILE *file = fopen (log_path, "r");
    assert_non_null (file);
    size_t got = fread (text, 1, sizeof text - 1, file);
    fclose (file);
    text [got] = '\0';
    unlink (log_path);
    assert_non_null (strstr (text, "first\n"));
    assert_non_null (strstr (text, "second\n"));
    const char *hub = strstr (text, "hub\n");
    assert_non_null (hub);
    assert_string_equal (hub, "hub\n");

    supervisor_destroy (&sup);
}

static void
test_exec_failure_is_reported (void **state)
{
    (void) state;
    supervisor_t *sup = supervisor_new (&s_fast);
    const char *argv [] = { "/nonexistent/mcpbox-nothing", "--flag", NULL };
    int index = supervisor_add (sup, "missing", argv);
    assert_int_equal (index, 0);
    errno = 0;
    assert_int_equal (supervisor_start (sup), -1);
    assert_int_equal (errno, ENOENT);
    assert_int_equal (supervisor_pid (sup, index), 0);
    s_assert_no_children ();
    supervisor_destroy (&sup);
}

static void
test_children_die_with_supervisor (void **state)
{
    (void) state;
    int report [2];
    assert_int_equal (pipe (report), 0);
    pid_t middle = fork ();
    assert_true (middle >= 0);
    if (middle == 0) {
        //  A supervising process that will be SIGKILLed with a child running.
        close (report [0]);
        supervisor_t *sup = supervisor_new (&s_fast);
        const char *argv [] = { "/bin/sleep", "30", NULL };
        supervisor_add (sup, "orphan-to-be", argv);
        pid_t child = supervisor_start (sup) == 0? supervisor_pid (sup, 0): 0;
        ssize_t rc = write (report [1], &child, sizeof child);
        (void) rc;
        pause ();
        _exit (0);
    }
    close (report [1]);
    pid_t child = 0;
    assert_int_equal (read (report [0], &child, sizeof child), (ssize_t) sizeof child);
    close (report [0]);
    assert_true (child > 0);
    assert_false (s_process_gone (child));

    assert_int_equal (kill (middle, SIGKILL), 0);
    assert_int_equal (waitpid (middle, NULL, 0), middle);
    assert_true (s_wait_gone (child, 3000));
    s_assert_no_children ();
}

static void
test_add_rejects_bad_input (void **state)
{
    (void) state;
    assert_null (supervisor_new (&(supervisor_config_t) { 0, 0, 0 }));
    assert_null (supervisor_new (&(supervisor_config_t) { 100, 50, 0 }));
    supervisor_t *sup = supervisor_new (NULL);
    assert_non_null (sup);

    const char *empty [] = { NULL };
    const char *blank [] = { "", NULL };
    const char *fine [] = { "/bin/true", NULL };
    assert_int_equal (supervisor_add (sup, "x", empty), -1);
    assert_int_equal (supervisor_add (sup, "x", blank), -1);
    assert_int_equal (supervisor_add (sup, NULL, fine), -1);
    assert_int_equal (supervisor_add (sup, "x", NULL), -1);

    char long_name [SUPERVISOR_NAME_MAX + 8];
    memset (long_name, 'n', sizeof long_name - 1);
    long_name [sizeof long_name - 1] = '\0';
    assert_int_equal (supervisor_add (sup, long_name, fine), -1);

    const char *many [SUPERVISOR_ARGS_MAX + 2];
    for (int i = 0; i <= SUPERVISOR_ARGS_MAX; i++)
        many [i] = "/bin/true";
    many [SUPERVISOR_ARGS_MAX + 1] = NULL;
    assert_int_equal (supervisor_add (sup, "x", many), -1);

    for (int i = 0; i < SUPERVISOR_CHILDREN_MAX; i++)
        assert_int_equal (supervisor_add (sup, "x", fine), i);
    assert_int_equal (supervisor_add (sup, "x", fine), -1);
    assert_int_equal (supervisor_size (sup), SUPERVISOR_CHILDREN_MAX);
    assert_null (supervisor_name (sup, SUPERVISOR_CHILDREN_MAX));
    assert_int_equal (supervisor_pid (sup, -1), 0);
    supervisor_destroy (&sup);      //  never started: nothing to stop
    supervisor_destroy (&sup);      //  NULL is fine
}

int
main (void)
{
    log_init ("test_supervisor", LOG_INFO);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_restart_with_backoff),
        cmocka_unit_test (test_backoff_resets_after_stable_run),
        cmocka_unit_test (test_killed_by_signal_is_restarted),
        cmocka_unit_test (test_stop_all_order_and_sigkill),
        cmocka_unit_test (test_exec_failure_is_reported),
        cmocka_unit_test (test_children_die_with_supervisor),
        cmocka_unit_test (test_add_rejects_bad_input),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
