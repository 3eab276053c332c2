# A bounded libFuzzer run as a ctest test (fuzz preset, clang): the target explores from a
# fresh copy of its seed corpus (the seeds in the repo stay untouched) for SECONDS seconds;
# any crash, leak, timeout or out-of-memory fails the test, its input kept in WORK/artifacts/.
#   cmake -DFUZZER=bin -DSEEDS=dir -DWORK=dir -DSECONDS=n -DSEED=n -P run_libfuzzer.cmake
cmake_minimum_required(VERSION 3.25)
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}/corpus" "${WORK}/artifacts")
file(GLOB seeds "${SEEDS}/*")
file(COPY ${seeds} DESTINATION "${WORK}/corpus")
set(command "${FUZZER}" -seed=${SEED} -max_total_time=${SECONDS} -rss_limit_mb=2048 -timeout=10
    -print_final_stats=1 "-artifact_prefix=${WORK}/artifacts/" "${WORK}/corpus")
string(REPLACE ";" " " shown "${command}")
message(STATUS "fuzz: ${shown}")
# The whole log goes to WORK/fuzz.log; the test output keeps the seed and the final stats
# (all of it on failure).
execute_process(COMMAND ${command} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
file(WRITE "${WORK}/fuzz.log" "${out}")
if(rc EQUAL 0)
  string(REGEX MATCHALL "INFO: Seed: [0-9]+|#[0-9]+\tDONE [^\n]*|stat::[^\n]*" summary "${out}")
  string(REPLACE ";" "\n" summary "${summary}")
  message(STATUS "fuzz: ${summary}")
else()
  message("${out}")
  file(GLOB found "${WORK}/artifacts/*")
  message(FATAL_ERROR "fuzz: ${FUZZER} failed (exit ${rc}); input: ${found}\n"
                      "reproduce: ${FUZZER} <input>   (docs/fuzzing.md)")
endif()
