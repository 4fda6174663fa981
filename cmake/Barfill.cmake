# Helpers that give every barfill target the same standard, warnings and include root.

set(BARFILL_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wno-unused-parameter -Wno-restrict)

# barfill_defaults(TARGET): what every target built from this tree gets: C++20, warnings, and the
# sanitizers of BARFILL_SANITIZE (per target, so nothing outside the tree is instrumented).
function(barfill_defaults target)
  get_target_property(type ${target} TYPE)
  set(scope PRIVATE)
  if(type STREQUAL "STATIC_LIBRARY")
    set(scope PUBLIC)  # whoever links the library links the sanitizer runtime too
  endif()
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_compile_options(${target} PRIVATE ${BARFILL_WARNINGS})
  if(BARFILL_SANITIZE)
    # -g1: line tables for the sanitizers' stack traces, without the full debug info that makes
    # instrumented builds much slower to compile.
    target_compile_options(${target} PRIVATE -fsanitize=${BARFILL_SANITIZE} -fno-omit-frame-pointer -g1)
    target_link_options(${target} ${scope} -fsanitize=${BARFILL_SANITIZE})
  endif()
endfunction()

# barfill_test_code(TARGET): test code (suites and their helpers) is built at -O0 in sanitizer
# builds. It is thin beside the code it tests, which keeps the build's optimization, and
# instrumented -O2 test files took several times longer to compile than at -O0 (CI's budget).
function(barfill_test_code target)
  if(BARFILL_SANITIZE)
    target_compile_options(${target} PRIVATE -O0)
  endif()
endfunction()

# barfill_component(NAME SOURCES a.cpp ... DEPS target ...)
# A static library barfill_NAME for one part of the pipeline (src/NAME).
function(barfill_component name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(barfill_${name} STATIC ${ARG_SOURCES})
  barfill_defaults(barfill_${name})
  target_include_directories(barfill_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(barfill_${name} PUBLIC ${ARG_DEPS})
endfunction()

# barfill_test(NAME LABELS unit|integration|pg|chaos SOURCES ... DEPS ... [NO_EXE] [SERIAL] [TSAN]
#              [TIMEOUT s])
# A GoogleTest executable whose tests CTest discovers with the given labels. Tests find the
# barfill executable and the source tree through compile definitions; NO_EXE is for tests that
# never run the barfill executable, so they need not wait for it to build. TSAN puts the
# executable in the `tsan_tests` target and its tests under the label LABEL_tsan: what the
# ThreadSanitizer stage of scripts/test.sh builds and runs.
function(barfill_test name)
  cmake_parse_arguments(ARG "NO_EXE;SERIAL;TSAN" "TIMEOUT" "LABELS;SOURCES;DEPS" ${ARGN})
  if(ARG_TSAN)
    set_property(GLOBAL APPEND PROPERTY BARFILL_TSAN_TESTS ${name})
    # One label, "unit_tsan" say: gtest_discover_tests cannot pass a list of labels, and CTest's
    # -L takes a regular expression, so -L unit and -L tsan both find it.
    set(ARG_LABELS "${ARG_LABELS}_tsan")
  endif()
  # SERIAL: ctest runs each of these tests alone (timing-sensitive scenarios: leases, pauses).
  set(run_serial FALSE)
  if(ARG_SERIAL)
    set(run_serial TRUE)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  barfill_defaults(${name})
  barfill_test_code(${name})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE BARFILL_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  if(NOT ARG_NO_EXE)
    target_compile_definitions(${name} PRIVATE BARFILL_EXE="$<TARGET_FILE:barfill_cli>")
    add_dependencies(${name} barfill_cli)
  endif()
  gtest_discover_tests(${name}
    PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT} RUN_SERIAL ${run_serial}
    DISCOVERY_TIMEOUT 60)
endfunction()
