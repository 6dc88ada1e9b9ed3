/*  config.h — layered configuration: defaults < config file < environment < flags.

    A program declares its options once (key, type, default, bounds, help).
    config_load() then applies, in order:
      1. each option's default;
      2. the config file: --config FILE if given (must exist), otherwise
         DATA_DIR/mcpbox.conf if present. Format: `key = value` lines,
         `#` comments, blank lines; keys as declared (data_dir, http_port);
      3. environment: MCPBOX_<KEY> with the key upper-cased (MCPBOX_HTTP_PORT);
      4. flags: --key value or --key=value, with '-' for '_' (--http-port 8000);
         a bool flag given alone means true. Flags may stand anywhere on the
         line; what is not a flag is a positional argument, kept in order.
    Every error names the bad key and the layer it came from, e.g.
      "http_port: 'abc' is not an integer (from environment MCPBOX_HTTP_PORT)".

    DATA_DIR/mcpbox.conf is shared by every MCPbox program (the mcpbox
    commands, broker, gateway, actors), and each declares only its own
    options. So a file key the reading program does not declare is ignored
    if it is in config_known_keys (it belongs to another program), and an
    error naming the key, file and line if it is not (a typo stays loud).
    Unknown flags are errors; unknown MCPBOX_* environment variables are
    ignored (other programs share the environment).

    An option with flag_only set is taken from flags only: MCPBOX_<KEY> is
    ignored and a file line setting it is an error ("KEY can only be given
    as a flag"), unless another program reads that key from the file, in
    which case the line is ignored as any other program's key is. Use it for
    what one invocation means (--force, --json, --out), which must not
    change because of a line in a shared file or a variable left exported.

    Every program gets the common options data_dir (default ./data),
    log_level (info), config (path, "") and help (bool, flag only) without
    declaring them.
*/
#ifndef MCPBOX_CONFIG_H
#define MCPBOX_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum { CONFIG_STR, CONFIG_INT, CONFIG_BOOL } config_type_t;

//  Tables use designated initializers and name only what they set:
//    { .key = "http_port", .type = CONFIG_INT, .default_value = "8000",
//      .min = 1, .max = 65535, .help = "HTTP port" },
//    { .key = "force", .type = CONFIG_BOOL, .help = "overwrite", .flag_only = true },
//    { .key = NULL }                          //  ends the table
//  (tests/unit/common/test_config.c reads every table in this form).

typedef struct {
    const char    *key;            //  lower_snake_case; NULL ends the table
    config_type_t  type;
    const char    *default_value;  //  as text; NULL = "" / 0 / false
    int64_t        min, max;       //  CONFIG_INT bounds (inclusive)
    const char    *help;           //  one line for --help
    bool           flag_only;      //  true: flags only, never the file or
                                   //  the environment
} config_option_t;

//  Every key some MCPbox program reads from the config file (declared
//  without flag_only), NULL-terminated; see config_keys.c. A program that
//  declares a new such option must add its key there.
extern const char *const config_known_keys [];

typedef struct _config_t config_t;

config_t   *config_new (const config_option_t *options);
void        config_destroy (config_t **self_p);

//  Apply all layers. 0 on success; -1 with a message in err otherwise.
int         config_load (config_t *self, int argc, char **argv,
                         char *err, size_t errlen);

//  Values (key must be declared or common; an undeclared key aborts, as
//  that is a programming error, not input).
const char *config_str  (config_t *self, const char *key);
int64_t     config_int  (config_t *self, const char *key);
bool        config_bool (config_t *self, const char *key);

//  Override a value from code (validated as a flag would be).
int         config_set  (config_t *self, const char *key, const char *value,
                         char *err, size_t errlen);

//  Positional arguments left after flags, in order.
int         config_argc (config_t *self);
const char *config_argv (config_t *self, int index);

//  Print "usage" then one line per option with its help, bounds, default,
//  and "(flag only)" for a flag_only option.
void        config_print_help (config_t *self, FILE *out, const char *usage);

#endif
