# The sandbox's module lists have one source, common/python_modules.txt;
# these rules generate what needs them at build time (python_modules_run.cmake).
set(MCPBOX_PYTHON_MODULES_LIST ${PROJECT_SOURCE_DIR}/common/python_modules.txt)
set(MCPBOX_PYTHON_MODULES_SCRIPT ${PROJECT_SOURCE_DIR}/cmake/python_modules_run.cmake)

# mcpbox_python_modules_header(output): the C header of the lists.
function(mcpbox_python_modules_header output)
  add_custom_command(
    OUTPUT ${output}
    COMMAND ${CMAKE_COMMAND} -DLIST=${MCPBOX_PYTHON_MODULES_LIST} -DHEADER=${output}
            -P ${MCPBOX_PYTHON_MODULES_SCRIPT}
    DEPENDS ${MCPBOX_PYTHON_MODULES_LIST} ${MCPBOX_PYTHON_MODULES_SCRIPT}
    COMMENT "Generating ${output} from common/python_modules.txt")
endfunction()

# mcpbox_python_modules_harness(input output): input with its marker lines
# (DEFAULT_MODULES = None  # @MCPBOX_DEFAULT_MODULES@, and FORBIDDEN_) filled in.
function(mcpbox_python_modules_harness input output)
  add_custom_command(
    OUTPUT ${output}
    COMMAND ${CMAKE_COMMAND} -DLIST=${MCPBOX_PYTHON_MODULES_LIST} -DHARNESS_IN=${input}
            -DHARNESS_OUT=${output} -P ${MCPBOX_PYTHON_MODULES_SCRIPT}
    DEPENDS ${input} ${MCPBOX_PYTHON_MODULES_LIST} ${MCPBOX_PYTHON_MODULES_SCRIPT}
    COMMENT "Generating ${output} from harness.py and common/python_modules.txt")
endfunction()
