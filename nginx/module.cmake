# ngx_http_jwtgate_module.so, built against the system nginx (nginx-dev) by
# nginx/build-module into ${CMAKE_BINARY_DIR}/nginx: the release flavour in a
# normal build, the sanitize flavour (ASan + UBSan, like the library it
# links) when JG_SANITIZE is on. Included from the top-level CMakeLists.txt.
# (Not add_subdirectory: nginx's configure writes its own Makefile into
# that directory.)
set(JG_NGX_SRC "/usr/share/nginx/src" CACHE PATH "nginx-dev's source tree")
if(NOT EXISTS "${JG_NGX_SRC}/conf_flags")
  message(STATUS "nginx module: ${JG_NGX_SRC}/conf_flags not found (install nginx-dev); not built")
  return()
endif()

if(JG_SANITIZE)
  set(JG_NGX_FLAVOUR sanitize)
else()
  set(JG_NGX_FLAVOUR release)
endif()
set(JG_NGX_MODULE "${CMAKE_BINARY_DIR}/nginx/ngx_http_jwtgate_module.so")
file(GLOB JG_NGX_SOURCES CONFIGURE_DEPENDS
  ${PROJECT_SOURCE_DIR}/nginx/*.c ${PROJECT_SOURCE_DIR}/nginx/*.h
  ${PROJECT_SOURCE_DIR}/nginx/llm/*.c ${PROJECT_SOURCE_DIR}/nginx/llm/*.h)

add_custom_command(
  OUTPUT ${JG_NGX_MODULE}
  COMMAND ${CMAKE_COMMAND} -E env CC=${CMAKE_C_COMPILER} NGX_SRC=${JG_NGX_SRC}
          ${PROJECT_SOURCE_DIR}/nginx/build-module ${CMAKE_BINARY_DIR}/nginx
          $<TARGET_FILE:jwtgate_static> ${PROJECT_SOURCE_DIR}/include:${JG_GENERATED_INCLUDE}
          ${JG_NGX_FLAVOUR}
  # build-module leaves the .so untouched when nothing changed: make it new
  # so that this rule is satisfied.
  COMMAND ${CMAKE_COMMAND} -E touch ${JG_NGX_MODULE}
  DEPENDS jwtgate_static ${JG_NGX_SOURCES} ${JG_GENERATED_INCLUDE}/jwtgate/version.h
          ${PROJECT_SOURCE_DIR}/nginx/config
          ${PROJECT_SOURCE_DIR}/nginx/build-module
  COMMENT "Building ngx_http_jwtgate_module.so (${JG_NGX_FLAVOUR}) against ${JG_NGX_SRC}"
  VERBATIM)
add_custom_target(ngx_http_jwtgate_module ALL DEPENDS ${JG_NGX_MODULE})

# Installed where Debian's nginx loads dynamic modules from (load_module
# modules/NAME.so): PREFIX/lib/nginx/modules, /usr/lib/nginx/modules for the
# packages (debian/, docs/packages.md).
set(JG_NGX_MODULE_DIR "lib/nginx/modules" CACHE STRING
    "where the nginx module is installed, relative to the prefix")
install(FILES ${JG_NGX_MODULE} DESTINATION ${JG_NGX_MODULE_DIR})
