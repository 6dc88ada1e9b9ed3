# mcpbox_embed_file(input output symbol): make `output` a C file defining
#   const char symbol[]  (the file's bytes plus a NUL) and const size_t symbol_size.
function(mcpbox_embed_file input output symbol)
  add_custom_command(
    OUTPUT ${output}
    COMMAND ${CMAKE_COMMAND} -DIN=${input} -DOUT=${output} -DSYMBOL=${symbol}
            -P ${PROJECT_SOURCE_DIR}/cmake/embed_file_run.cmake
    DEPENDS ${input} ${PROJECT_SOURCE_DIR}/cmake/embed_file_run.cmake
    COMMENT "Embedding ${input}")
endfunction()
