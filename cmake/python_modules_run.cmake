# Script mode for python_modules.cmake: common/python_modules.txt (LIST) ->
#   HEADER: C macros MODULES_DEFAULT_LIST / _COUNT / _TEXT, MODULES_FORBIDDEN_LIST
#   HARNESS_OUT: HARNESS_IN with its two marker lines replaced by the lists
# Either output may be omitted. A malformed list or a missing marker is fatal.
cmake_minimum_required(VERSION 3.25)
file(STRINGS ${LIST} lines)
set(section "")
set(default_names "")
set(forbidden_names "")
foreach(line IN LISTS lines)
  string(REGEX REPLACE "#.*$" "" line "${line}")
  string(STRIP "${line}" line)
  if(line STREQUAL "")
    continue()
  endif()
  if(line MATCHES "^\\[(default|forbidden)\\]$")
    set(section ${CMAKE_MATCH_1})
  elseif(NOT line MATCHES "^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*$")
    message(FATAL_ERROR "${LIST}: '${line}' is not a dotted module name")
  elseif(section STREQUAL "")
    message(FATAL_ERROR "${LIST}: '${line}' stands before [default] or [forbidden]")
  else()
    if(line IN_LIST default_names OR line IN_LIST forbidden_names)
      message(FATAL_ERROR "${LIST}: '${line}' is listed twice")
    endif()
    list(APPEND ${section}_names ${line})
  endif()
endforeach()
if(NOT default_names OR NOT forbidden_names)
  message(FATAL_ERROR "${LIST}: [default] and [forbidden] must both list modules")
endif()

set(c_default "")
set(py_default "")
foreach(name IN LISTS default_names)
  string(APPEND c_default " \"${name}\",")
  string(APPEND py_default "\"${name}\", ")
endforeach()
set(c_forbidden "")
set(py_forbidden "")
foreach(name IN LISTS forbidden_names)
  string(APPEND c_forbidden " \"${name}\",")
  string(APPEND py_forbidden "\"${name}\", ")
endforeach()
string(REGEX REPLACE ",$" "" c_default "${c_default}")
string(REGEX REPLACE ",$" "" c_forbidden "${c_forbidden}")
list(LENGTH default_names default_count)
list(JOIN default_names ", " default_text)

if(HEADER)
  file(WRITE ${HEADER}.tmp
"/* Generated from common/python_modules.txt by cmake/python_modules_run.cmake; do not edit. */
#ifndef MCPBOX_PYTHON_MODULES_H
#define MCPBOX_PYTHON_MODULES_H
#define MODULES_DEFAULT_LIST ${c_default}
#define MODULES_DEFAULT_COUNT ${default_count}
#define MODULES_DEFAULT_TEXT \"${default_text}\"
#define MODULES_FORBIDDEN_LIST ${c_forbidden}
#endif
")
  file(COPY_FILE ${HEADER}.tmp ${HEADER} ONLY_IF_DIFFERENT)
endif()

if(HARNESS_OUT)
  file(READ ${HARNESS_IN} text)
  foreach(marker DEFAULT FORBIDDEN)
    set(pattern "\n${marker}_MODULES = None  # @MCPBOX_${marker}_MODULES@[^\n]*\n")
    string(REGEX MATCHALL "${pattern}" found "${text}")
    list(LENGTH found n)
    if(NOT n EQUAL 1)
      message(FATAL_ERROR "${HARNESS_IN}: want one line '${marker}_MODULES = None  # @MCPBOX_${marker}_MODULES@', found ${n}")
    endif()
  endforeach()
  string(REGEX REPLACE "\nDEFAULT_MODULES = None  # @MCPBOX_DEFAULT_MODULES@[^\n]*\n"
         "\nDEFAULT_MODULES = (${py_default})  # generated from common/python_modules.txt\n" text "${text}")
  string(REGEX REPLACE "\nFORBIDDEN_MODULES = None  # @MCPBOX_FORBIDDEN_MODULES@[^\n]*\n"
         "\nFORBIDDEN_MODULES = frozenset((${py_forbidden}))  # generated from common/python_modules.txt\n" text "${text}")
  file(WRITE ${HARNESS_OUT}.tmp "${text}")
  file(COPY_FILE ${HARNESS_OUT}.tmp ${HARNESS_OUT} ONLY_IF_DIFFERENT)
endif()
