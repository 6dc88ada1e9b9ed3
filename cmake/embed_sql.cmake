# Embed sql/NNNN_name.sql into a C file defining mcpbox_migrations[] (see common/migrate.h).
# The generated file is rebuilt whenever a .sql file changes or one is added.
function(mcpbox_embed_sql sql_dir out_file)
  file(GLOB sql_files CONFIGURE_DEPENDS ${sql_dir}/[0-9][0-9][0-9][0-9]_*.sql)
  list(SORT sql_files)
  add_custom_command(
    OUTPUT ${out_file}
    COMMAND ${CMAKE_COMMAND} -DSQL_DIR=${sql_dir} -DOUT=${out_file}
            -P ${PROJECT_SOURCE_DIR}/cmake/embed_sql_run.cmake
    DEPENDS ${sql_files} ${PROJECT_SOURCE_DIR}/cmake/embed_sql_run.cmake
    COMMENT "Embedding SQL migrations")
endfunction()
