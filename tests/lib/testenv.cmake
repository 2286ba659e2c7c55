# The one place that says how tests run (included from tests/CMakeLists.txt):
#
# - the sanitizer options of a JG_SANITIZE build, for every test (C and
#   Python alike, and whatever they start): written into a file that CTest
#   includes before it runs anything (TEST_INCLUDE_FILES), so a plain
#   `ctest` in the sanitizer build runs exactly as scripts/test does;
# - the environment of every Python test (JG_PY_TEST_ENV): the package
#   tests/lib/jgtest on PYTHONPATH, the binaries under test (JWTGATED,
#   JWTGATE_CLI, JG_NGX_MODULE), JG_SANITIZE, and a scratch directory per
#   suite (JG_TEST_DIR, in that suite's build directory);
# - jg_add_python_test(): how a Python test is registered.

if(JG_SANITIZE)
  # detect_leaks: LeakSanitizer is part of ASan on Linux; abort_on_error makes
  # every report fatal (and visible as SIGABRT). nginx runs with the same
  # options but detect_leaks=0 (tests/lib/jgtest/config.py: it does not free
  # everything at exit).
  set(JG_ASAN_OPTIONS
      "detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
      CACHE STRING "ASAN_OPTIONS of every test in a JG_SANITIZE build")
  set(JG_UBSAN_OPTIONS "print_stacktrace=1:halt_on_error=1"
      CACHE STRING "UBSAN_OPTIONS of every test in a JG_SANITIZE build")
  file(WRITE ${CMAKE_BINARY_DIR}/sanitizer-env.cmake
       "set(ENV{ASAN_OPTIONS} \"${JG_ASAN_OPTIONS}\")\n"
       "set(ENV{UBSAN_OPTIONS} \"${JG_UBSAN_OPTIONS}\")\n")
  set_property(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR} APPEND PROPERTY
               TEST_INCLUDE_FILES ${CMAKE_BINARY_DIR}/sanitizer-env.cmake)
  set(JG_SANITIZE_VALUE ON)
else()
  set(JG_SANITIZE_VALUE OFF)
endif()

set(JG_PYTHON /usr/bin/python3) # Debian's, with Debian's python3-* packages
set(JG_PY_TEST_ENV
    "PYTHONPATH=${PROJECT_SOURCE_DIR}/tests/lib"
    "PYTHONDONTWRITEBYTECODE=1"
    "JG_BUILD_DIR=${CMAKE_BINARY_DIR}"
    "JG_SANITIZE=${JG_SANITIZE_VALUE}")
if(TARGET jwtgate_cli)
  list(APPEND JG_PY_TEST_ENV "JWTGATE_CLI=$<TARGET_FILE:jwtgate_cli>")
endif()
if(TARGET jwtgated)
  list(APPEND JG_PY_TEST_ENV "JWTGATED=$<TARGET_FILE:jwtgated>")
endif()
if(TARGET ngx_http_jwtgate_module)
  list(APPEND JG_PY_TEST_ENV "JG_NGX_MODULE=${JG_NGX_MODULE}")
endif()

# jg_add_python_test(NAME SCRIPT LABEL label... TIMEOUT seconds
#                    [RUN_SERIAL] [ARGS args...] [ENV VAR=value...])
function(jg_add_python_test name script)
  cmake_parse_arguments(PT "RUN_SERIAL" "TIMEOUT" "LABEL;ARGS;ENV" ${ARGN})
  add_test(NAME ${name} COMMAND ${JG_PYTHON} ${script} ${PT_ARGS})
  set(env ${JG_PY_TEST_ENV} "JG_TEST_DIR=${CMAKE_CURRENT_BINARY_DIR}/scratch" ${PT_ENV})
  set_tests_properties(${name} PROPERTIES LABELS "${PT_LABEL}" TIMEOUT ${PT_TIMEOUT}
                       ENVIRONMENT "${env}")
  if(PT_RUN_SERIAL)
    set_tests_properties(${name} PROPERTIES RUN_SERIAL TRUE)
  endif()
endfunction()
