/*  config.c — layered configuration: defaults < file < environment < flags.

    See config.h for the contract. How it is done here:

    - The option table a program declares is merged with the common options
      (data_dir, log_level, config, help). A program may redeclare a common
      key to change its default or help; its declaration wins.
    - Every value is held as validated text plus its parsed int/bool, so a
      getter never fails. Each layer assigns through one function,
      s_assign(), which validates and names the key and the layer in every
      error.
    - The file is found through data_dir and config, so those two are
      resolved from flags and environment before the file is read. The file
      found implicitly (DATA_DIR/mcpbox.conf) may not set data_dir, since it
      was found through it; a file named with --config may.
    - An option with flag_only (`help` among the common ones) is skipped by
      the environment layer and refused by the file layer, so one line or
      one exported variable cannot change what every invocation means.
    - A file key the program does not declare is looked up in
      config_known_keys (config_keys.c): there, it is another program's and
      the line is skipped without looking at its value (that program
      checks it); not there, it is an error. A key the program declares
      flag_only but another program reads from the file is skipped too.
    - `config` in the file is an error: the file is already chosen.
    - `-h` is `--help`; any other single-dash word is an unknown flag, and
      a lone `-` is positional.
    - A value flag takes the next word unless it starts with `--` (write
      --name=--x for that); so --offset -5 works.
    - A key set twice in the file is an error; a flag given twice, the last
      wins.
    - A bool flag never takes the next argument (`--help foo` leaves `foo`
      positional); write --flag=false to turn one off.
    - CONFIG_INT bounds min = max = 0 mean "unbounded" (a table that forgets
      bounds should not silently allow only 0).

    Limits, enforced where input enters: a value is at most
    CONFIG_VALUE_MAX bytes, a file line CONFIG_LINE_MAX bytes, a file
    CONFIG_FILE_MAX bytes; control characters are refused in values.

    This is not a general INI parser: no sections, no quoting, no inline
    comments (a `#` after a value is part of the value).
*/
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "bus_errors.h"
#include "config.h"

#define CONFIG_VALUE_MAX  4000          //  bytes of one value
#define CONFIG_LINE_MAX   4096          //  bytes of one file line, with newline
#define CONFIG_FILE_MAX   (1u << 20)    //  bytes of the config file
#define CONFIG_KEY_MAX    64            //  bytes of one key
#define CONFIG_PATH_MAX   1024          //  bytes of the config file path
#define CONFIG_ENV_PREFIX "MCPBOX_"
#define CONFIG_FILE_NAME  "mcpbox.conf"

//  The options every program has without declaring them.
static const config_option_t s_common_options [] = {
    { .key = "data_dir", .type = CONFIG_STR, .default_value = "./data",
      .help = "data directory (database, sockets, keys)" },
    { .key = "log_level", .type = CONFIG_STR, .default_value = "info",
      .help = "debug, info, warn or error" },
    { .key = "config", .type = CONFIG_STR, .default_value = "",
      .help = "config file; none: DATA_DIR/" CONFIG_FILE_NAME " if present" },
    { .key = "help", .type = CONFIG_BOOL, .help = "print this help and exit", .flag_only = true },
    { .key = NULL }
};

typedef struct {
    config_option_t  option;        //  declaration (strings borrowed)
    char            *text;          //  current value as text, owned
    int64_t          ival;          //  parsed value for CONFIG_INT
    bool             bval;          //  parsed value for CONFIG_BOOL
    int              file_line;     //  line that set it in the file, 0 if none
} s_entry_t;

struct _config_t {
    s_entry_t  *entries;            //  common + declared options
    size_t      count;              //  number of entries
    char      **positional;         //  positional arguments, owned
    int         npositional;        //  number of positional arguments
};

//  One flag assignment found in argv, applied after file and environment.
typedef struct {
    size_t      index;              //  entry index
    const char *value;              //  borrowed from argv (or "true")
    char        layer [CONFIG_KEY_MAX + 16];   //  "flag --http-port"
} s_flag_t;

//  --------------------------------------------------------------------------
//  Small helpers

//  Copy at most 48 bytes of untrusted text for an error message, with
//  control and non-ASCII bytes shown as '?'.
static const char *
s_show (const char *text, char *buf, size_t bufsize)
{
    size_t limit = bufsize - 4, i = 0;
    if (limit > 48)
        limit = 48;
    for (; text [i] && i < limit; i++) {
        unsigned char c = (unsigned char) text [i];
        buf [i] = (c >= 0x20 && c < 0x7f) ? (char) c : '?';
    }
    if (text [i]) {
        memcpy (buf + i, "...", 3);
        i += 3;
    }
    buf [i] = 0;
    return buf;
}

static bool
s_streq (const char *a, const char *b)
{
    return strcmp (a, b) == 0;
}

static bool
s_key_valid (const char *key)
{
    size_t len = strlen (key);
    if (len == 0 || len > CONFIG_KEY_MAX || !islower ((unsigned char) key [0]))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!(islower ((unsigned char) key [i]) || isdigit ((unsigned char) key [i])
              || key [i] == '_'))
            return false;
    return true;
}

//  "--http-port" for http_port, into a buffer of CONFIG_KEY_MAX + 3 bytes.
static const char *
s_flag_name (const char *key, char *buf)
{
    snprintf (buf, CONFIG_KEY_MAX + 3, "--%s", key);
    for (char *c = buf + 2; *c; c++)
        if (*c == '_')
            *c = '-';
    return buf;
}

//  Does some MCPbox program read `key` from the file?
static bool
s_known (const char *key)
{
    for (size_t i = 0; config_known_keys [i]; i++)
        if (s_streq (config_known_keys [i], key))
            return true;
    return false;
}

static s_entry_t *
s_find (config_t *self, const char *key)
{
    for (size_t i = 0; i < self->count; i++)
        if (s_streq (self->entries [i].option.key, key))
            return &self->entries [i];
    return NULL;
}

static bool
s_parse_bool (const char *text, bool *value)
{
    static const char *yes [] = { "true", "1", "yes", "on", NULL };
    static const char *no  [] = { "false", "0", "no", "off", NULL };
    for (int i = 0; yes [i]; i++)
        if (strcasecmp (text, yes [i]) == 0) {
            *value = true;
            return true;
        }
    for (int i = 0; no [i]; i++)
        if (strcasecmp (text, no [i]) == 0) {
            *value = false;
            return true;
        }
    return false;
}

//  Validate `value` for `entry` and store it. `layer` names where it came
//  from ("environment MCPBOX_HTTP_PORT"). 0 or -1 + err.
static int
s_assign (s_entry_t *entry, const char *value, const char *layer,
          char *err, size_t errlen)
{
    const char *key = entry->option.key;
    char shown [64];
    size_t len = strnlen (value, CONFIG_VALUE_MAX + 1);
    if (len > CONFIG_VALUE_MAX) {
        bus_err_text (err, errlen, "%s: value longer than %d bytes (from %s)",
               key, CONFIG_VALUE_MAX, layer);
        return -1;
    }
    for (size_t i = 0; i < len; i++)
        if ((unsigned char) value [i] < 0x20 || value [i] == 0x7f) {
            bus_err_text (err, errlen, "%s: value contains a control character (from %s)",
                   key, layer);
            return -1;
        }
    int64_t ival = 0;
    bool bval = false;
    if (entry->option.type == CONFIG_INT) {
        char *end = NULL;
        errno = 0;
        long long parsed = strtoll (value, &end, 10);
        if (len == 0 || isspace ((unsigned char) value [0]) || *end != 0) {
            bus_err_text (err, errlen, "%s: '%s' is not an integer (from %s)",
                   key, s_show (value, shown, sizeof shown), layer);
            return -1;
        }
        int64_t min = entry->option.min, max = entry->option.max;
        if (min == 0 && max == 0) {
            min = INT64_MIN;
            max = INT64_MAX;
        }
        if (errno == ERANGE || parsed < min || parsed > max) {
            bus_err_text (err, errlen, "%s: %s is out of range %lld..%lld (from %s)",
                   key, s_show (value, shown, sizeof shown),
                   (long long) min, (long long) max, layer);
            return -1;
        }
        ival = parsed;
    }
    else
    if (entry->option.type == CONFIG_BOOL) {
        if (!s_parse_bool (value, &bval)) {
            bus_err_text (err, errlen, "%s: '%s' is not a boolean (true/false, 1/0, "
                   "yes/no, on/off) (from %s)",
                   key, s_show (value, shown, sizeof shown), layer);
            return -1;
        }
    }
    char *copy = strdup (value);
    if (!copy) {
        bus_err_text (err, errlen, "%s: out of memory", key);
        return -1;
    }
    free (entry->text);
    entry->text = copy;
    entry->ival = ival;
    entry->bval = bval;
    return 0;
}

//  --------------------------------------------------------------------------
//  Construction

config_t *
config_new (const config_option_t *options)
{
    size_t declared = 0;
    if (options)
        while (options [declared].key)
            declared++;
    size_t common = sizeof s_common_options / sizeof s_common_options [0] - 1;

    config_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->entries = calloc (declared + common, sizeof (s_entry_t));
    if (!self->entries) {
        free (self);
        return NULL;
    }
    for (size_t i = 0; i < declared; i++) {
        if (!s_key_valid (options [i].key) || s_find (self, options [i].key)) {
            fprintf (stderr, "config: bad or duplicate option key '%s'\n",
                     options [i].key);
            abort ();
        }
        self->entries [self->count++].option = options [i];
    }
    for (size_t i = 0; i < common; i++)
        if (!s_find (self, s_common_options [i].key))
            self->entries [self->count++].option = s_common_options [i];

    //  Defaults are part of the program: a bad one is a programming error.
    for (size_t i = 0; i < self->count; i++) {
        s_entry_t *entry = &self->entries [i];
        const char *def = entry->option.default_value;
        if (!def)
            def = entry->option.type == CONFIG_STR ? ""
                : entry->option.type == CONFIG_INT ? "0" : "false";
        char err [256];
        if (s_assign (entry, def, "default", err, sizeof err)) {
            fprintf (stderr, "config: %s\n", err);
            abort ();
        }
    }
    return self;
}

void
config_destroy (config_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    config_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++)
        free (self->entries [i].text);
    free (self->entries);
    for (int i = 0; i < self->npositional; i++)
        free (self->positional [i]);
    free (self->positional);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Layers

//  Split argv into flag assignments and positional arguments.
static int
s_parse_argv (config_t *self, int argc, char **argv, s_flag_t *flags,
              size_t *nflags, char *err, size_t errlen)
{
    bool flags_done = false;
    char shown [64];
    *nflags = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv [i];
        if (!arg)
            break;
        if (flags_done || arg [0] != '-' || s_streq (arg, "-")) {
            char *copy = strdup (arg);
            if (!copy) {
                bus_err_text (err, errlen, "out of memory");
                return -1;
            }
            self->positional [self->npositional++] = copy;
            continue;
        }
        if (s_streq (arg, "--")) {
            flags_done = true;
            continue;
        }
        if (s_streq (arg, "-h"))
            arg = "--help";
        if (arg [1] != '-') {
            bus_err_text (err, errlen, "unknown flag '%s' (flags are --key value)",
                   s_show (arg, shown, sizeof shown));
            return -1;
        }
        //  --key or --key=value; '-' in the key stands for '_'.
        const char *name = arg + 2;
        const char *equals = strchr (name, '=');
        size_t name_len = equals ? (size_t) (equals - name) : strlen (name);
        char key [CONFIG_KEY_MAX + 1];
        if (name_len == 0 || name_len > CONFIG_KEY_MAX) {
            bus_err_text (err, errlen, "unknown flag '%s'", s_show (arg, shown, sizeof shown));
            return -1;
        }
        for (size_t k = 0; k < name_len; k++)
            key [k] = name [k] == '-' ? '_' : name [k];
        key [name_len] = 0;
        s_entry_t *entry = s_find (self, key);
        if (!entry) {
            bus_err_text (err, errlen, "unknown flag '%s'", s_show (arg, shown, sizeof shown));
            return -1;
        }
        s_flag_t *flag = &flags [(*nflags)++];
        flag->index = (size_t) (entry - self->entries);
        snprintf (flag->layer, sizeof flag->layer, "flag --%.*s",
                  (int) name_len, name);
        if (equals)
            flag->value = equals + 1;
        else
        if (entry->option.type == CONFIG_BOOL)
            flag->value = "true";
        else
        if (i + 1 < argc && argv [i + 1] && strncmp (argv [i + 1], "--", 2) != 0)
            flag->value = argv [++i];
        else {
            bus_err_text (err, errlen, "%s: flag --%.*s needs a value", key,
                   (int) name_len, name);
            return -1;
        }
    }
    return 0;
}

//  Value of `key` as flags and environment would set it (file not read yet).
static const char *
s_early_value (config_t *self, const char *key, s_flag_t *flags, size_t nflags,
               char *layer, size_t layerlen)
{
    s_entry_t *entry = s_find (self, key);
    const char *value = NULL;
    for (size_t i = 0; i < nflags; i++)
        if (&self->entries [flags [i].index] == entry) {
            value = flags [i].value;
            snprintf (layer, layerlen, "%s", flags [i].layer);
        }
    if (value)
        return value;
    char name [CONFIG_KEY_MAX + 16];
    snprintf (name, sizeof name, CONFIG_ENV_PREFIX "%s", key);
    for (char *c = name; *c; c++)
        *c = (char) toupper ((unsigned char) *c);
    value = entry->option.flag_only ? NULL : getenv (name);
    if (value) {
        snprintf (layer, layerlen, "environment %s", name);
        return value;
    }
    snprintf (layer, layerlen, "default");
    return entry->text;
}

//  Read a whole file of at most CONFIG_FILE_MAX bytes. 0, 1 if it does not
//  exist and `optional`, or -1 + err.
static int
s_read_file (const char *path, bool optional, const char *layer,
             char **data_p, size_t *size_p, char *err, size_t errlen)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (optional && errno == ENOENT)
            return 1;
        bus_err_text (err, errlen, "config: cannot open '%s': %s (from %s)",
               path, strerror (errno), layer);
        return -1;
    }
    struct stat st;
    if (fstat (fd, &st) || !S_ISREG (st.st_mode)) {
        bus_err_text (err, errlen, "config: '%s' is not a regular file (from %s)",
               path, layer);
        close (fd);
        return -1;
    }
    if (st.st_size > (off_t) CONFIG_FILE_MAX) {
        bus_err_text (err, errlen, "config: '%s' is larger than %u bytes (from %s)",
               path, CONFIG_FILE_MAX, layer);
        close (fd);
        return -1;
    }
    char *data = malloc (CONFIG_FILE_MAX + 1);
    if (!data) {
        bus_err_text (err, errlen, "config: out of memory");
        close (fd);
        return -1;
    }
    size_t size = 0;
    while (size <= CONFIG_FILE_MAX) {
        ssize_t got = read (fd, data + size, CONFIG_FILE_MAX + 1 - size);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            bus_err_text (err, errlen, "config: cannot read '%s': %s", path, strerror (errno));
            free (data);
            close (fd);
            return -1;
        }
        if (got == 0)
            break;
        size += (size_t) got;
    }
    close (fd);
    if (size > CONFIG_FILE_MAX) {
        bus_err_text (err, errlen, "config: '%s' is larger than %u bytes", path,
               CONFIG_FILE_MAX);
        free (data);
        return -1;
    }
    *data_p = data;
    *size_p = size;
    return 0;
}

static char *
s_trim (char *start, char *end)
{
    while (start < end && (*start == ' ' || *start == '\t'))
        start++;
    while (end > start && (end [-1] == ' ' || end [-1] == '\t' || end [-1] == '\r'))
        end--;
    *end = 0;
    return start;
}

//  Apply `key = value` lines from the file.
static int
s_load_file (config_t *self, const char *path, bool implicit, const char *found_by,
             char *err, size_t errlen)
{
    char *data = NULL;
    size_t size = 0;
    int rc = s_read_file (path, implicit, found_by, &data, &size, err, errlen);
    if (rc)
        return rc > 0 ? 0 : -1;
    if (memchr (data, 0, size)) {
        bus_err_text (err, errlen, "config: '%s' contains a NUL byte", path);
        free (data);
        return -1;
    }
    data [size] = 0;

    char shown [64];
    int line_no = 0;
    char *line = data, *data_end = data + size;
    while (line < data_end) {
        line_no++;
        char *newline = memchr (line, '\n', (size_t) (data_end - line));
        char *line_end = newline ? newline : data_end;
        if ((size_t) (line_end - line) + (newline ? 1 : 0) > CONFIG_LINE_MAX) {
            bus_err_text (err, errlen, "config: %s:%d: line longer than %d bytes",
                   path, line_no, CONFIG_LINE_MAX);
            goto fail;
        }
        char *next = newline ? newline + 1 : data_end;
        char *text = s_trim (line, line_end);
        line = next;
        if (*text == 0 || *text == '#')
            continue;

        char *equals = strchr (text, '=');
        if (!equals) {
            bus_err_text (err, errlen, "config: %s:%d: expected 'key = value', got '%s'",
                   path, line_no, s_show (text, shown, sizeof shown));
            goto fail;
        }
        char *key = s_trim (text, equals);
        char *value = s_trim (equals + 1, equals + 1 + strlen (equals + 1));
        s_entry_t *entry = s_find (self, key);
        if (s_streq (key, "config")) {
            bus_err_text (err, errlen, "config: cannot be set in the config file "
                   "(%s:%d)", path, line_no);
            goto fail;
        }
        if (!entry || entry->option.flag_only) {
            if (s_known (key))
                continue;       //  another program's key
            char flag [CONFIG_KEY_MAX + 3];
            if (entry)
                bus_err_text (err, errlen, "%s can only be given as a flag, %s "
                       "(%s:%d)", key, s_flag_name (key, flag), path, line_no);
            else
                bus_err_text (err, errlen, "config: %s:%d: unknown key '%s'",
                       path, line_no, s_show (key, shown, sizeof shown));
            goto fail;
        }
        if (implicit && s_streq (key, "data_dir")) {
            bus_err_text (err, errlen, "data_dir: cannot be set in %s, which is found "
                   "through data_dir (%s:%d)", path, path, line_no);
            goto fail;
        }
        if (entry->file_line) {
            bus_err_text (err, errlen, "%s: set twice in %s (lines %d and %d)",
                   key, path, entry->file_line, line_no);
            goto fail;
        }
        entry->file_line = line_no;
        char layer [CONFIG_PATH_MAX + 32];
        snprintf (layer, sizeof layer, "file %s:%d", path, line_no);
        if (s_assign (entry, value, layer, err, errlen))
            goto fail;
    }
    free (data);
    return 0;
fail:
    free (data);
    return -1;
}

static int
s_load_environment (config_t *self, char *err, size_t errlen)
{
    for (size_t i = 0; i < self->count; i++) {
        s_entry_t *entry = &self->entries [i];
        if (entry->option.flag_only)
            continue;           //  MCPBOX_<KEY> ignored, as if not there
        char name [CONFIG_KEY_MAX + 16];
        snprintf (name, sizeof name, CONFIG_ENV_PREFIX "%s", entry->option.key);
        for (char *c = name; *c; c++)
            *c = (char) toupper ((unsigned char) *c);
        const char *value = getenv (name);
        if (!value)
            continue;
        char layer [CONFIG_KEY_MAX + 32];
        snprintf (layer, sizeof layer, "environment %s", name);
        if (s_assign (entry, value, layer, err, errlen))
            return -1;
    }
    return 0;
}

int
config_load (config_t *self, int argc, char **argv, char *err, size_t errlen)
{
    if (err && errlen)
        err [0] = 0;
    //  Start over from the defaults, so a second load is a fresh load.
    for (size_t i = 0; i < self->count; i++) {
        s_entry_t *entry = &self->entries [i];
        const char *def = entry->option.default_value;
        if (!def)
            def = entry->option.type == CONFIG_STR ? ""
                : entry->option.type == CONFIG_INT ? "0" : "false";
        entry->file_line = 0;
        if (s_assign (entry, def, "default", err, errlen))
            return -1;
    }
    for (int i = 0; i < self->npositional; i++)
        free (self->positional [i]);
    free (self->positional);
    self->positional = NULL;
    self->npositional = 0;

    if (argc < 0)
        argc = 0;
    int rc = -1;
    s_flag_t *flags = calloc ((size_t) argc + 1, sizeof *flags);
    self->positional = calloc ((size_t) argc + 1, sizeof (char *));
    if (!flags || !self->positional) {
        bus_err_text (err, errlen, "config: out of memory");
        goto done;
    }
    size_t nflags = 0;
    if (s_parse_argv (self, argc, argv, flags, &nflags, err, errlen))
        goto done;

    //  Find the file through flags and environment.
    char config_layer [CONFIG_KEY_MAX + 32], dir_layer [CONFIG_KEY_MAX + 32];
    const char *config_path = s_early_value (self, "config", flags, nflags,
                                             config_layer, sizeof config_layer);
    const char *data_dir = s_early_value (self, "data_dir", flags, nflags,
                                          dir_layer, sizeof dir_layer);
    if (strlen (config_path) > CONFIG_PATH_MAX) {
        bus_err_text (err, errlen, "config: path longer than %d bytes (from %s)",
               CONFIG_PATH_MAX, config_layer);
        goto done;
    }
    if (*config_path) {
        char path [CONFIG_PATH_MAX + 1];
        snprintf (path, sizeof path, "%s", config_path);
        if (s_load_file (self, path, false, config_layer, err, errlen))
            goto done;
    }
    else
    if (*data_dir) {
        char path [CONFIG_PATH_MAX + 32];
        if (strlen (data_dir) > CONFIG_PATH_MAX) {
            bus_err_text (err, errlen, "data_dir: path longer than %d bytes (from %s)",
                   CONFIG_PATH_MAX, dir_layer);
            goto done;
        }
        snprintf (path, sizeof path, "%s/" CONFIG_FILE_NAME, data_dir);
        if (s_load_file (self, path, true, dir_layer, err, errlen))
            goto done;
    }
    if (s_load_environment (self, err, errlen))
        goto done;
    for (size_t i = 0; i < nflags; i++)
        if (s_assign (&self->entries [flags [i].index], flags [i].value,
                      flags [i].layer, err, errlen))
            goto done;
    rc = 0;
done:
    free (flags);
    return rc;
}

//  --------------------------------------------------------------------------
//  Access

static s_entry_t *
s_require (config_t *self, const char *key, config_type_t type)
{
    s_entry_t *entry = s_find (self, key);
    if (!entry || entry->option.type != type) {
        fprintf (stderr, "config: key '%s' is not declared with this type\n", key);
        abort ();
    }
    return entry;
}

const char *
config_str (config_t *self, const char *key)
{
    return s_require (self, key, CONFIG_STR)->text;
}

int64_t
config_int (config_t *self, const char *key)
{
    return s_require (self, key, CONFIG_INT)->ival;
}

bool
config_bool (config_t *self, const char *key)
{
    return s_require (self, key, CONFIG_BOOL)->bval;
}

int
config_set (config_t *self, const char *key, const char *value,
            char *err, size_t errlen)
{
    char shown [64];
    s_entry_t *entry = key ? s_find (self, key) : NULL;
    if (!entry) {
        bus_err_text (err, errlen, "unknown key '%s'", key ? s_show (key, shown, sizeof shown) : "(null)");
        return -1;
    }
    if (!value) {
        bus_err_text (err, errlen, "%s: no value", key);
        return -1;
    }
    return s_assign (entry, value, "config_set", err, errlen);
}

int
config_argc (config_t *self)
{
    return self->npositional;
}

const char *
config_argv (config_t *self, int index)
{
    if (index < 0 || index >= self->npositional)
        return NULL;
    return self->positional [index];
}

void
config_print_help (config_t *self, FILE *out, const char *usage)
{
    fprintf (out, "%s\n\noptions (flag, or MCPBOX_<KEY> in the environment, "
             "or key = value in the config file):\n", usage ? usage : "usage:");
    for (size_t i = 0; i < self->count; i++) {
        const config_option_t *option = &self->entries [i].option;
        char flag [CONFIG_KEY_MAX + 3];
        s_flag_name (option->key, flag);
        const char *kind = option->type == CONFIG_INT ? " <int>"
                         : option->type == CONFIG_STR ? " <text>" : "";
        fprintf (out, "  %s%s\n      %s", flag, kind, option->help ? option->help : "");
        if (option->type == CONFIG_INT && !(option->min == 0 && option->max == 0))
            fprintf (out, " [%lld..%lld]", (long long) option->min, (long long) option->max);
        if (option->type != CONFIG_BOOL) {
            const char *def = option->default_value ? option->default_value : "";
            fprintf (out, " (default: %s)", *def ? def : "none");
        }
        if (option->flag_only)
            fprintf (out, " (flag only)");
        fprintf (out, "\n");
    }
}
