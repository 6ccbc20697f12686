/*
 * cli.h — internals shared by the somhop CLI (host/src/cli/ files). Not a
 * public header: nothing outside the CLI includes it.
 *
 * Sections
 *   1. Exit codes (documented in `somhop --help` and docs/cli.md)
 *   2. Option parser (long options, --help on every command)
 *   3. Value parsers (numbers, ranges, choices) that report usage errors
 *   4. Error reporting (library codes -> messages and exit codes)
 *   5. JSON summaries on stdout
 *   6. Progress bar (stderr, only when it is a terminal)
 *   7. Small helpers (file extensions, seeds, time)
 */
#ifndef SOMHOP_CLI_H
#define SOMHOP_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "somhop/error.h"

/* ---- 1. Exit codes --------------------------------------------------- */
enum {
  EXIT_OK = 0,        /* success */
  EXIT_RUNTIME = 1,   /* runtime or data error (bad CSV, NaN, dimension mismatch, I/O) */
  EXIT_USAGE = 2,     /* usage error (unknown option, bad option value, missing argument) */
  EXIT_MODEL = 3,     /* model file error (missing, truncated, corrupt, newer version, wrong kind) */
  EXIT_DEVICE = 4     /* accelerator / device error (backend unavailable, OpenCL failure, limits) */
};

/* Text shown by `somhop --help`, `somhop help` and in docs/cli.md. */
extern const char cli_exit_codes_text[];

/* ---- 2. Option parser ------------------------------------------------ */

/* One option of a command. metavar == NULL means a flag without value. */
typedef struct cli_opt {
  const char *name;    /* long name without the leading "--" */
  char short_name;     /* single-letter alias ('o' for -o) or 0 */
  const char *metavar; /* value placeholder in the usage text ("FILE"), NULL for flags */
  const char *help;    /* one-line description; may contain "\n" for continuation lines */
} cli_opt;

/* A command's usage: the synopsis, a description, its options (terminated by
 * an entry with name == NULL) and an optional trailing text. */
typedef struct cli_cmd {
  const char *path;        /* "som train" — shown in messages as "somhop som train" */
  const char *synopsis;    /* "[OPTIONS] DATA -o MODEL" */
  const char *description; /* paragraph(s) after the synopsis */
  const cli_opt *opts;     /* option table */
  const char *epilog;      /* text after the option list, or NULL */
} cli_cmd;

#define CLI_MAX_POS 16

/* Result of parsing: the last value of each option (NULL if absent; "" for
 * a present flag), how many times each was given, and the positionals. */
typedef struct cli_args {
  const cli_cmd *cmd;
  const char *val[64];   /* indexed like cmd->opts */
  int count[64];         /* times seen */
  const char *pos[CLI_MAX_POS];
  int npos;
} cli_args;

/* Parse argv[1..argc-1] (argv[0] is the command word). Returns:
 *   0  parsed, continue
 *   1  --help was given: usage printed to stdout, caller exits 0
 *  -1  usage error: message printed to stderr, caller exits EXIT_USAGE
 * --help is accepted on every command and needs no entry in the table. */
int cli_parse(const cli_cmd *cmd, int argc, char **argv, cli_args *out);

/* Print the usage text (generated from the table, so it matches the parser). */
void cli_usage(const cli_cmd *cmd, FILE *f);

/* Print "somhop <path>: <message>" plus a pointer to --help on stderr and
 * return EXIT_USAGE. */
int cli_usage_error(const cli_cmd *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Value of option `name` (NULL if absent) / whether it was given. */
const char *cli_get(const cli_args *a, const char *name);
int cli_has(const cli_args *a, const char *name);

/* ---- 3. Value parsers: 0 on success, else a usage error is printed and
 *      EXIT_USAGE returned. Absent options keep *out unchanged. ----------- */
int cli_get_long(const cli_args *a, const char *name, long lo, long hi, long *out);
int cli_get_u64(const cli_args *a, const char *name, uint64_t *out);
int cli_get_double(const cli_args *a, const char *name, double lo, double hi, double *out);
/* One of the '|'-separated words in choices ("linear|exp|inverse"); *out is
 * the index of the match. */
int cli_get_choice(const cli_args *a, const char *name, const char *choices, int *out);

/* Common options every kernel-running command shares. */
typedef struct cli_common {
  uint64_t seed;   /* --seed, default 1 */
  int threads;     /* --threads, 0 = all cores */
  int json;        /* --json */
  int backend;     /* --backend, CLI_BACKEND_* */
  int runtime;     /* --runtime, SOMHOP_RUNTIME_* (0 = opencl) */
} cli_common;

enum { CLI_BACKEND_CPU = 0, CLI_BACKEND_REF, CLI_BACKEND_SW_EMU, CLI_BACKEND_HW_EMU,
       CLI_BACKEND_HW };
extern const char *const cli_backend_names[];
#define CLI_BACKEND_CHOICES "cpu|ref|sw_emu|hw_emu|hw"
#define CLI_RUNTIME_CHOICES "opencl|xrt" /* SOMHOP_RUNTIME_* order */

/* Fill c from --seed/--threads/--json/--backend/--runtime (those present in the table). */
int cli_get_common(const cli_args *a, cli_common *c);

/* ---- 4. Error reporting --------------------------------------------- */

/* Print "somhop: error: <detail>" on stderr (detail = e->msg, or the code's
 * description when the message is empty). */
void cli_report(const somhop_err *e, int code);

/* Exit code for a library error code in a general (data/runtime) context. */
int cli_exit_for(int code);

/* Print a message and return an exit code: the general mapping. */
int cli_fail(const somhop_err *e, int code);
/* Same, but for errors while loading a model file: always EXIT_MODEL
 * (except out-of-memory, EXIT_RUNTIME). */
int cli_fail_model(const somhop_err *e, int code);

/* With --json: after a failure (exit_code != 0) print one JSON object
 * {"command", "ok": false, "error": first message, "exit_code"} on stdout.
 * main() calls it once; a no-op without --json or on success. */
void cli_json_error_flush(int exit_code);

/* printf-style error on stderr, returns `exit_code`. */
int cli_errorf(int exit_code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void cli_warnf(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* ---- 5. JSON (stdout) ------------------------------------------------ */

/* A tiny streaming writer: objects and arrays nest; commas are automatic. */
typedef struct cli_json {
  FILE *f;
  int depth;
  int first[32]; /* per level: nothing written yet */
} cli_json;

void cj_begin(cli_json *j, FILE *f);        /* opens the top-level object */
void cj_end(cli_json *j);                   /* closes it and writes "\n" */
void cj_key(cli_json *j, const char *key);  /* inside an object: "key": */
void cj_obj(cli_json *j, const char *key);  /* key may be NULL inside arrays */
void cj_arr(cli_json *j, const char *key);
void cj_close_obj(cli_json *j);
void cj_close_arr(cli_json *j);
void cj_str(cli_json *j, const char *key, const char *v);  /* NULL -> null */
void cj_num(cli_json *j, const char *key, double v);       /* NaN/Inf -> null */
void cj_int(cli_json *j, const char *key, long long v);
void cj_u64(cli_json *j, const char *key, uint64_t v);
void cj_bool(cli_json *j, const char *key, int v);
void cj_null(cli_json *j, const char *key);

/* ---- 6. Progress bar -------------------------------------------------- */
typedef struct cli_progress {
  int enabled;       /* stderr is a terminal (and not --quiet) */
  const char *label; /* "training" */
  int last_permille; /* last drawn value, -1 = none */
  double t0;         /* start time, seconds */
} cli_progress;

void cli_progress_init(cli_progress *p, const char *label);
void cli_progress_update(cli_progress *p, double fraction, const char *detail);
void cli_progress_done(cli_progress *p);

/* ---- 7. Helpers ------------------------------------------------------- */

/* Case-insensitive check that path ends with ext (".npy"). */
int cli_has_ext(const char *path, const char *ext);
/* Monotonic seconds. */
double cli_now(void);

/* One subcommand of a command group ("train" of "som"). */
typedef struct cli_sub {
  const char *name;
  int (*run)(int argc, char **argv);  /* argv[0] is the subcommand word */
} cli_sub;
/* Run the subcommand argv[1] of group ("som") from subs (terminated by
 * name == NULL). No subcommand: usage on stderr, EXIT_USAGE; --help/-h:
 * usage on stdout, 0; an unknown name: a message, EXIT_USAGE. */
int cli_dispatch(const char *group, const char *usage, const cli_sub *subs, int argc, char **argv);

/* Subcommand entry points (the dispatcher in main.c calls these). */
int somhop_cmd_som(int argc, char **argv);
int somhop_cmd_hopfield(int argc, char **argv);
int somhop_cmd_info(int argc, char **argv);

#endif /* SOMHOP_CLI_H */
