/* fuzz_job.c — libFuzzer harness for the job runner's JSON job spec
 * (`somhop run --plan`: parse, validate, plan the commands; nothing runs
 * and nothing is fetched). The spec goes in through SOMHOP_JOB, stdout is
 * discarded, the work directory is a private one created once. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int somhop_cmd_run(int argc, char **argv);

static char workdir[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!workdir[0]) {
    snprintf(workdir, sizeof workdir, "/tmp/somhop-fuzz-run-%ld", (long)getpid());
    mkdir(workdir, 0700);
    if (!freopen("/dev/null", "w", stdout)) return 0;
  }
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = 0;
  if (!text[0]) {   /* an empty SOMHOP_JOB is "no job": still a valid path to run */
    unsetenv("SOMHOP_JOB");
  } else {
    setenv("SOMHOP_JOB", text, 1);
  }
  char a0[] = "run", a1[] = "--plan", a2[] = "--workdir";
  char *argv[] = {a0, a1, a2, workdir, NULL};
  somhop_cmd_run(4, argv);
  fflush(stdout);
  free(text);
  return 0;
}
