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
    Unknown keys in the file or unknown flags are errors; unknown MCPBOX_*
    environment variables are ignored (other programs share the environment).

    Every program gets the common options data_dir (default ./data),
    log_level (info), config (path, "") and help (bool) without declaring them.
*/
#ifndef MCPBOX_CONFIG_H
#define MCPBOX_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum { CONFIG_STR, CONFIG_INT, CONFIG_BOOL } config_type_t;

typedef struct {
    const char    *key;            //  lower_snake_case; NULL ends the table
    config_type_t  type;
    const char    *default_value;  //  as text; NULL = "" / 0 / false
    int64_t        min, max;       //  CONFIG_INT bounds (inclusive)
    const char    *help;           //  one line for --help
} config_option_t;

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

//  Print "usage" then one line per option with its default and help.
void        config_print_help (config_t *self, FILE *out, const char *usage);

#endif
