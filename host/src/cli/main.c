/*
 * main.c — the somhop command dispatcher.
 *
 *   somhop som train|bmu|eval|predict|render ...
 *   somhop hopfield store|recall|energy ...
 *   somhop info MODEL | builtin:NAME
 *   somhop devices            (body: cmd_devices.c, OpenCL part)
 *   somhop run JOB            (body: cmd_run.c, Kubernetes runner part)
 *   somhop --version | help [COMMAND]
 *
 * `devices` and `run` live in files other parts own; they are referenced as
 * weak symbols so the CLI links (and says "not available in this build")
 * before those files exist.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef SOMHOP_VERSION_STRING
#define SOMHOP_VERSION_STRING "0.1.0"
#endif

/* Provided by cmd_devices.c / cmd_run.c when those parts are built in. */
extern int somhop_cmd_devices(int argc, char **argv) __attribute__((weak));
extern int somhop_cmd_run(int argc, char **argv) __attribute__((weak));

static const char top_usage[] =
    "Usage: somhop COMMAND [SUBCOMMAND] [OPTIONS] [ARGS]\n"
    "\n"
    "Self-organising maps and Hopfield networks on the CPU, the host fixed-point\n"
    "reference, and FPGA kernels (OpenCL: sw_emu, hw_emu simulation, or hw).\n"
    "\n"
    "Commands:\n"
    "  som train       train a SOM on CSV / .npy / builtin:NAME data, write a model\n"
    "  som bmu         best-matching unit of every sample (CSV, .npy or stdout)\n"
    "  som eval        quantisation error, topographic error, label purity\n"
    "  som predict     label samples by the majority label of their BMU\n"
    "  som render      U-matrix, hit-map and component-plane PNGs\n"
    "  hopfield store  store patterns (CSV, .npy, PBM, builtin:digits-prototypes)\n"
    "  hopfield recall recall from probes or noisy stored patterns\n"
    "  hopfield energy energy of states under a stored network\n"
    "  info            describe a model file or a built-in dataset\n"
    "  devices         list OpenCL accelerator devices\n"
    "  run             run an FPGAJob spec (used by the Kubernetes runner)\n"
    "  help [COMMAND]  show help (same as COMMAND --help)\n"
    "\n"
    "Options:\n"
    "  -h, --help      show this help and exit\n"
    "  -V, --version   print the version and exit\n"
    "\n"
    "Common options of the subcommands: --seed N, --threads N, --json (a\n"
    "machine-readable summary on stdout), --backend cpu|ref|sw_emu|hw_emu|hw\n"
    "(commands that run a kernel). Accelerator timings are printed as MODELED F1\n"
    "kernel times next to the measured simulation wall time; they are not\n"
    "hardware measurements.\n"
    "\n";

static void print_top_usage(FILE *f) {
  fputs(top_usage, f);
  fputs(cli_exit_codes_text, f);
  fputs("\nDocumentation: docs/cli.md\n", f);
}

static int unavailable(const char *what) {
  return cli_errorf(EXIT_DEVICE, "'somhop %s' is not available in this build", what);
}

static int dispatch(int argc, char **argv) {
  const char *c = argv[0];
  if (strcmp(c, "som") == 0) return somhop_cmd_som(argc, argv);
  if (strcmp(c, "hopfield") == 0 || strcmp(c, "hop") == 0) return somhop_cmd_hopfield(argc, argv);
  if (strcmp(c, "info") == 0) return somhop_cmd_info(argc, argv);
  if (strcmp(c, "devices") == 0) {
    if (somhop_cmd_devices) return somhop_cmd_devices(argc, argv);
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
      printf("Usage: somhop devices\n\nList OpenCL accelerator devices (not available in this "
             "build).\n");
      return 0;
    }
    return unavailable("devices");
  }
  if (strcmp(c, "run") == 0) {
    if (somhop_cmd_run) return somhop_cmd_run(argc, argv);
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
      printf("Usage: somhop run JOB\n\nRun an FPGAJob spec (not available in this build).\n");
      return 0;
    }
    return unavailable("run");
  }
  fprintf(stderr, "somhop: unknown command '%s'\nTry 'somhop --help'.\n", c);
  return EXIT_USAGE;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    print_top_usage(stderr);
    return EXIT_USAGE;
  }
  const char *c = argv[1];
  if (strcmp(c, "--help") == 0 || strcmp(c, "-h") == 0) {
    print_top_usage(stdout);
    return 0;
  }
  if (strcmp(c, "--version") == 0 || strcmp(c, "-V") == 0 || strcmp(c, "version") == 0) {
    printf("somhop %s\n", SOMHOP_VERSION_STRING);
    return 0;
  }
  if (strcmp(c, "help") == 0) {
    if (argc < 3) {
      print_top_usage(stdout);
      return 0;
    }
    /* help som train -> som train --help */
    char *args[8];
    int n = 0;
    for (int i = 2; i < argc && n < 6; i++) args[n++] = argv[i];
    args[n++] = (char *)"--help";
    args[n] = NULL;
    return dispatch(n, args);
  }
  if (c[0] == '-') {
    fprintf(stderr, "somhop: unknown option '%s'\nTry 'somhop --help'.\n", c);
    return EXIT_USAGE;
  }
  int rc = dispatch(argc - 1, argv + 1);
  if ((fflush(stdout) != 0 || ferror(stdout)) && rc == 0)
    rc = cli_errorf(EXIT_RUNTIME, "cannot write to stdout");
  cli_json_error_flush(rc);
  return rc;
}
