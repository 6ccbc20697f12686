/*
 * cmd_devices.c — `somhop devices`: the OpenCL platforms and devices the
 * ICD loader finds, and which somhop backend (--backend) each serves.
 *
 * Exit status: 0 when at least one OpenCL platform was found (even if no
 * device serves an accelerator backend), 4 when the loader finds no
 * platform at all (no ICD), 2 on a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "somhop/accel.h"

static const cli_opt devices_opts[] = {
    {"json", 0, NULL, "print a machine-readable JSON summary on stdout"},
    {NULL, 0, NULL, NULL}};

static const cli_cmd devices_cmd = {
    "devices", "[OPTIONS]",
    "List the OpenCL platforms and devices found through the ICD loader and the somhop\n"
    "backend each one serves: sw_emu and hw_emu come from the 'somhop emulation' platform\n"
    "(build/lib/libsomhop_emu_icd.so, selected with OCL_ICD_VENDORS or installed with\n"
    "scripts/install-emu-icd.sh), hw from XRT's 'Xilinx' platform. The cpu and ref backends\n"
    "need no device and are always available.",
    devices_opts,
    "For each accelerator backend the xclbin it would load is shown (SOMHOP_XCLBIN, else\n"
    "$SOMHOP_BUILD/xclbin/somhop.<target>.xclbin or the build tree next to the program)."};

static void print_gib(uint64_t b, char *buf, size_t n) {
  if (b >= (1ull << 30)) snprintf(buf, n, "%.0f GiB", (double)b / (double)(1ull << 30));
  else snprintf(buf, n, "%.0f MiB", (double)b / (double)(1ull << 20));
}

int somhop_cmd_devices(int argc, char **argv) {
  cli_args args;
  int pr = cli_parse(&devices_cmd, argc, argv, &args);
  if (pr == 1) return 0;
  if (pr < 0) return EXIT_USAGE;
  if (args.npos > 0) return cli_usage_error(&devices_cmd, "unexpected argument '%s'", args.pos[0]);
  int json = cli_has(&args, "json");
  somhop_err e = {0};
  somhop_device_info *list = NULL;
  size_t n = 0;
  int rc = somhop_accel_list(&list, &n, &e);
  static const char *const targets[] = {"sw_emu", "hw_emu", "hw"};
  char xcl[3][4096];
  int xcl_ok[3];
  for (int t = 0; t < 3; t++) xcl_ok[t] = somhop_accel_default_xclbin(targets[t], xcl[t], sizeof xcl[t]) == 0;
  if (json) {
    cli_json j;
    cj_begin(&j, stdout);
    cj_bool(&j, "opencl", rc == 0);
    if (rc < 0) cj_str(&j, "error", e.msg);
    cj_arr(&j, "devices");
    for (size_t i = 0; i < n; i++) {
      cj_obj(&j, NULL);
      cj_str(&j, "platform", list[i].platform);
      cj_str(&j, "platform_vendor", list[i].platform_vendor);
      cj_str(&j, "platform_version", list[i].platform_version);
      cj_str(&j, "device", list[i].device);
      cj_str(&j, "device_version", list[i].device_version);
      cj_str(&j, "type", list[i].device_type);
      if (list[i].backend[0]) cj_str(&j, "backend", list[i].backend);
      else cj_null(&j, "backend");
      cj_int(&j, "global_mem_bytes", (long long)list[i].global_mem_bytes);
      cj_int(&j, "clock_mhz", list[i].clock_mhz);
      cj_close_obj(&j);
    }
    cj_close_arr(&j);
    cj_obj(&j, "backends");
    cj_bool(&j, "cpu", 1);
    cj_bool(&j, "ref", 1);
    for (int t = 0; t < 3; t++) {
      int have = 0;
      for (size_t i = 0; i < n; i++) have |= strcmp(list[i].backend, targets[t]) == 0;
      cj_obj(&j, targets[t]);
      cj_bool(&j, "device", have);
      if (xcl_ok[t]) cj_str(&j, "xclbin", xcl[t]);
      else cj_null(&j, "xclbin");
      cj_close_obj(&j);
    }
    cj_close_obj(&j);
    cj_end(&j);
  } else {
    if (rc < 0) {
      fprintf(stderr, "somhop devices: %s\n", e.msg);
    } else {
      printf("%-3s %-22s %-10s %-12s %-8s %-9s %s\n", "#", "PLATFORM", "DEVICE", "TYPE", "BACKEND", "CLOCK",
             "MEMORY");
      for (size_t i = 0; i < n; i++) {
        char mem[32], id[16];
        print_gib(list[i].global_mem_bytes, mem, sizeof mem);
        snprintf(id, sizeof id, "%u.%u", list[i].platform_index, list[i].device_index);
        printf("%-3s %-22s %-10s %-12s %-8s %4u MHz  %s\n", id, list[i].platform, list[i].device,
               list[i].device_type, list[i].backend[0] ? list[i].backend : "-", list[i].clock_mhz, mem);
      }
      if (n == 0) printf("(platforms found, but no devices)\n");
    }
    printf("\nbackends:\n  cpu      always (host float code)\n  ref      always (host fixed-point reference)\n");
    for (int t = 0; t < 3; t++) {
      const somhop_device_info *d = NULL;
      for (size_t i = 0; i < n && !d; i++)
        if (strcmp(list[i].backend, targets[t]) == 0) d = &list[i];
      if (d)
        printf("  %-8s %s / %s, xclbin %s\n", targets[t], d->platform, d->device,
               xcl_ok[t] ? xcl[t] : "(none found)");
      else
        printf("  %-8s unavailable (no OpenCL device serves it)\n", targets[t]);
    }
  }
  free(list);
  return rc < 0 ? EXIT_DEVICE : 0;
}
