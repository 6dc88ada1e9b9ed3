/*  config_keys.c — every key an MCPbox program reads from the config file.

    DATA_DIR/mcpbox.conf is shared by all programs, each of which declares
    only its own options. config_load() ignores a file key the program does
    not declare when it is listed here (another program reads it) and
    refuses one that is not (a typo). So this list is the set of keys
    declared without flag_only in any config_option_t table:

      - a new option read from the file: add its key here, or a file that
        sets it breaks every other program;
      - a flag_only option (keygen's --force, status's --json): leave it
        out, so a file line setting it is an error in every program;
      - an option removed from every table: remove it here.

    test_config checks this list against the tables in cli/, actors/,
    broker/ and common/.
*/
#include <stddef.h>
#include "config.h"

const char *const config_known_keys [] = {
    //  Common to every program (config.c); `help` is flag only.
    "data_dir",
    "log_level",
    "config",           //  named by flag or environment; refused in the file
    //  Every bus client (common/startup.c): the actors, the gateway, the executor.
    "broker",
    //  mcpbox-broker (broker/main.c); tcp_endpoint also mcpbox up.
    "tcp_endpoint",
    "curve_secret",
    "curve_allow",
    "heartbeat_ms",
    //  mcpbox-gateway (actors/gateway/main.c); http_* also mcpbox up.
    "http_host",
    "http_port",
    "events",
    "allowed_hosts",
    "allowed_origins",
    "mcp_session_idle_s",
    "mcp_sessions_max",
    "mcp_keepalive_s",
    "api_allow_remote",
    "remote_listen",
    "remote_public_url",
    "execution_logs",
    "web_dir",          //  also mcpbox up
    "live_recheck_s",
    "enable_docs",
    "log_spool_records",
    "circuit_failures",
    "circuit_open_s",
    "metrics_token",
    "source_oauth_redirect_url",         //  also mcpbox sources
    "source_oauth_client_metadata_url",  //  also mcpbox sources
    //  mcpbox up (cli/cmd_up.c).
    "executors",
    //  CURVE for a tcp:// broker (common/startup.c): actors, executor.
    "broker_key",
    "cert",
    //  mcpbox-executor (actors/executor/main.c).
    "credit",
    "labels",           //  mcpbox-executor: what a host announces
    //  mcpbox-logkeeper (actors/logkeeper/main.c).
    "alerts_queue_max",
    "alerts_attempts",
    "alerts_retry_ms",
    "alerts_retry_max_ms",
    "alerts_timeout_ms",
    "alerts_crash_loop_count",
    "alerts_crash_loop_window_s",
    "log_prune_first_s",
    "log_prune_every_s",
    "log_prune_batch",
    "log_policy_refresh_s",
    //  mcpbox-credentials (actors/credentials/main.c).
    "access_ttl_s",
    "refresh_ttl_s",
    "login_window_s",
    "login_max_failures",
    "pwhash_ops",
    "pwhash_mem_mib",
    "oauth_access_ttl_s",
    "oauth_refresh_ttl_s",
    "oauth_code_ttl_s",
    //  mcpbox-tunnel (actors/tunnel/main.c).
    "tunnel_target",
    "tunnel_ssh_path",
    "tunnel_ssh_keygen_path",
    "tunnel_cloudflared_path",
    "tunnel_backoff_min_ms",
    "tunnel_backoff_max_ms",
    "tunnel_stable_s",
    "tunnel_server_alive_s",
    NULL
};
