# jg_llm: the LLM wire formats (nginx/llm/*.c, C11 + jansson, no nginx
# headers) as a static library for tests/unit and bench; the AI nginx module
# compiles the same files (nginx/config lists them). fuzz/ builds its own
# instrumented copy from JG_LLM_SOURCES. Included from the top-level
# CMakeLists.txt.
file(GLOB JG_LLM_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/nginx/llm/*.c)
add_library(jg_llm STATIC ${JG_LLM_SOURCES})
target_include_directories(jg_llm PUBLIC ${PROJECT_SOURCE_DIR}/nginx/llm)
target_link_libraries(jg_llm PUBLIC PkgConfig::JANSSON)
