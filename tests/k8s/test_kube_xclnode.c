/*
 * test_kube_xclnode.c — the runner's Node holdings string (host/src/cli/run_xclnode.c, pure
 * part): which slots a runner records, padding to the node's slot count, explicit slots
 * ($SOMHOP_FPGA_SLOTS), reprogram counts, "nothing to change", refusals. No network: the
 * read-modify-write against a real apiserver is tests/k8s/test_real_node_xclbin.sh.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "../../host/src/cli/run_xclnode.c" /* static helpers are part of what is tested */

static char out[4096], why[256];
static int ch[RUN_XCLNODE_MAX_SLOTS], nch, rp;

static int claim(const char *cur, long nslots, const int *slots, int n, int want, const char *x) {
  why[0] = 0;
  return run_xclnode_claim(cur, nslots, slots, n, want, x, out, sizeof out, ch, &nch, &rp, why, sizeof why);
}

int main(void) {
  /* nothing recorded yet: the node's 2 slots, the first empty one taken */
  CHECK_INT("fresh node: changed", claim(NULL, 2, NULL, 0, 1, "kx"), 0);
  CHECK_STR("fresh node: slot 0 of 2", out, "kx,");
  CHECK_INT("  one slot chosen", nch, 1);
  CHECK_INT("  slot 0", ch[0], 0);
  CHECK_INT("  no reprogramming", rp, 0);
  /* a slot already holding it: nothing to write */
  CHECK_INT("holding: unchanged", claim("kx,", 2, NULL, 0, 1, "kx"), 1);
  CHECK_STR("  value kept", out, "kx,");
  /* a second xclbin goes to the empty slot, not over the first */
  CHECK_INT("second xclbin: changed", claim("kx,", 2, NULL, 0, 1, "ky"), 0);
  CHECK_STR("  empty slot 1 taken", out, "kx,ky");
  CHECK_INT("  slot 1", ch[0], 1);
  /* no empty slot: the lowest other is reprogrammed and counted */
  CHECK_INT("full node: changed", claim("kx,ky", 2, NULL, 0, 1, "kz"), 0);
  CHECK_STR("  slot 0 reprogrammed", out, "kz,ky");
  CHECK_INT("  one reprogramming", rp, 1);
  /* two slots: the one holding it, then an empty one */
  CHECK_INT("2 slots: changed", claim(",ky,kx", 3, NULL, 0, 2, "kx"), 0);
  CHECK_STR("  holding slot 2 + empty slot 0", out, "kx,ky,kx");
  CHECK_INT("  two slots chosen", nch, 2);
  CHECK_INT("  holding first", ch[0], 2);
  CHECK_INT("  then empty", ch[1], 0);
  /* a shorter annotation than the node's slots is padded; unknown slot count: as needed */
  CHECK_INT("padding", claim("kx", 4, NULL, 0, 1, "kx"), 0);
  CHECK_STR("  padded to 4 slots", out, "kx,,,");
  CHECK_INT("unknown slot count, full: the list does not grow", claim("ka,kb", 0, NULL, 0, 1, "kc"), 0);
  CHECK_STR("  slot 0 reprogrammed", out, "kc,kb");
  CHECK_INT("unknown slot count, fewer entries than slots wanted: appended", claim("ka", 0, NULL, 0, 2, "kc"), 0);
  CHECK_STR("  slot 0 reprogrammed, slot 1 appended", out, "kc,kc");
  CHECK_INT("  one reprogramming", rp, 1);
  CHECK_INT("unknown slot count, empty", claim("", 0, NULL, 0, 2, "kc"), 0);
  CHECK_STR("  two slots", out, "kc,kc");
  /* explicit slots ($SOMHOP_FPGA_SLOTS) win over the claim order */
  int s3[] = {3, 1};
  CHECK_INT("explicit slots", claim("kx,,,", 4, s3, 2, 2, "kx"), 0);
  CHECK_STR("  slots 3 and 1 set although slot 0 holds it", out, "kx,kx,,kx");
  int s1[] = {1};
  CHECK_INT("explicit slot over another: reprogram", claim("kx,ky", 2, s1, 1, 1, "kz"), 0);
  CHECK_STR("  slot 1 replaced", out, "kx,kz");
  CHECK_INT("  counted", rp, 1);
  int s9[] = {9};
  CHECK_INT("explicit slot beyond the node: refused", claim("kx,ky", 2, s9, 1, 1, "kz"), -1);
  CHECK(  "  the message names the slot", strstr(why, "slot 9") != NULL);
  /* refusals */
  CHECK_INT("comma in the name: refused", claim(NULL, 2, NULL, 0, 1, "a,b"), -1);
  CHECK_INT("empty name: refused", claim(NULL, 2, NULL, 0, 1, ""), -1);
  char big[200];
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = 0;
  CHECK_INT("an entry over 128 characters in the annotation: refused", claim(big, 2, NULL, 0, 1, "kx"), -1);
  /* $SOMHOP_FPGA_SLOTS parsing */
  int sl[8];
  CHECK_INT("slots \"0,2\"", run_xclnode_parse_slots("0,2", sl, 8), 2);
  CHECK_INT("  second is 2", sl[1], 2);
  CHECK_INT("slots unset", run_xclnode_parse_slots(NULL, sl, 8), 0);
  CHECK_INT("slots \"x\": malformed", run_xclnode_parse_slots("x", sl, 8), -1);
  CHECK_INT("slots \"1,\": a trailing comma is tolerated", run_xclnode_parse_slots("1,", sl, 8), 1);
  CHECK_INT("slots \"-1\": malformed", run_xclnode_parse_slots("-1", sl, 8), -1);
  CHECK_INT("slots \"64\": beyond the limit", run_xclnode_parse_slots("64", sl, 8), -1);
  CHECK(    "node names: a DNS subdomain", node_name_ok("somhop-real-1") && !node_name_ok("../x") && !node_name_ok(""));
  return check_done();
}
