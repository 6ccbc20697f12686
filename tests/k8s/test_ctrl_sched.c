/* Unit tests of the scheduler arithmetic (controller/ctrl_util.c): job ordering,
 * eligibility (pool label, Ready, schedulable, capacity), slot math, the pool table,
 * RFC 3339 parsing and the string map. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ctrl_util.h"

int main(void) {
  ctrl_sched_job jobs[] = {
      {"ns/low-old", "sim", 0, 100.0, 1},
      {"ns/high-new", "sim", 10, 300.0, 1},
      {"ns/high-old", "sim", 10, 200.0, 1},
      {"ns/neg", "sim", -5, 50.0, 1},
      {"ns/b-same", "sim", 0, 100.0, 1},
      {"ns/a-same", "sim", 0, 100.0, 1},
  };
  ctrl_sched_sort(jobs, 6);
  const char *want[] = {"ns/high-old", "ns/high-new", "ns/a-same", "ns/b-same", "ns/low-old", "ns/neg"};
  for (int i = 0; i < 6; i++) {
    char name[64];
    snprintf(name, sizeof name, "order position %d", i);
    CHECK_STR(name, jobs[i].key, want[i]);
  }

  ctrl_sched_node nodes[] = {
      {"sim-a", "sim", 1, 1, 2, 2},     /* full */
      {"sim-b", "sim", 1, 1, 2, 1},     /* 1 free */
      {"sim-c", "sim", 0, 1, 4, 0},     /* not ready */
      {"sim-d", "sim", 1, 0, 4, 0},     /* cordoned */
      {"f1-a", "aws-f1", 1, 1, 8, 0},   /* other pool */
      {"plain", NULL, 1, 1, 8, 0},      /* no label */
  };
  ctrl_sched_job j = {"ns/j", "sim", 0, 0, 1};
  size_t pick = 99;
  CHECK_INT("fits on the only node with a free slot", ctrl_sched_pick(nodes, 6, &j, &pick), CTRL_FIT_OK);
  CHECK_STR("picked sim-b", nodes[pick].name, "sim-b");
  j.fpgas = 2;
  CHECK_INT("2 slots: eligible nodes exist but are busy", ctrl_sched_pick(nodes, 6, &j, &pick), CTRL_FIT_BUSY);
  j.fpgas = 3;
  CHECK_INT("3 slots: no ready schedulable node has 3", ctrl_sched_pick(nodes, 6, &j, &pick), CTRL_FIT_NO_NODE);
  ctrl_sched_job f = {"ns/f", "aws-f1", 0, 0, 8};
  CHECK_INT("F1 job fits the F1 node", ctrl_sched_pick(nodes, 6, &f, &pick), CTRL_FIT_OK);
  CHECK_STR("picked f1-a", nodes[pick].name, "f1-a");
  ctrl_sched_job none = {"ns/n", NULL, 0, 0, 1};
  CHECK_INT("job without a pool fits nowhere", ctrl_sched_pick(nodes, 6, &none, &pick), CTRL_FIT_NO_NODE);

  /* slot math over many placements: never more than allocatable per node */
  ctrl_sched_node many[3] = {{"n0", "sim", 1, 1, 2, 0}, {"n1", "sim", 1, 1, 2, 0}, {"n2", "sim", 1, 1, 2, 0}};
  int placed = 0, busy = 0;
  for (int i = 0; i < 10; i++) {
    ctrl_sched_job x = {"ns/x", "sim", 0, 0, 1};
    int r = ctrl_sched_pick(many, 3, &x, &pick);
    if (r == CTRL_FIT_OK) {
      many[pick].used++;
      placed++;
    } else if (r == CTRL_FIT_BUSY) {
      busy++;
    }
  }
  CHECK_INT("3 nodes x 2 slots place 6 jobs", placed, 6);
  CHECK_INT("the other 4 are AllSlotsBusy", busy, 4);
  int over = 0;
  for (int i = 0; i < 3; i++) over |= many[i].used > many[i].allocatable;
  CHECK("no node over-committed", !over);
  CHECK("every node got 2", many[0].used == 2 && many[1].used == 2 && many[2].used == 2);

  /* bin-packing (issue 13 bug 7): three 1-slot jobs on 3 nodes x 2 slots, then a 2-slot job.
   * Spreading left one free slot per node (3 idle, the 2-slot job unplaceable); most-allocated
   * scoring fills n0, then n1, and leaves n2 whole. */
  ctrl_sched_node bp[3] = {{"n0", "sim", 1, 1, 2, 0}, {"n1", "sim", 1, 1, 2, 0}, {"n2", "sim", 1, 1, 2, 0}};
  for (int i = 0; i < 3; i++) {
    ctrl_sched_job x = {"ns/one", "sim", 0, 0, 1};
    if (ctrl_sched_pick(bp, 3, &x, &pick) == CTRL_FIT_OK) bp[pick].used++;
  }
  CHECK("bin-packing: 1-slot jobs fill n0 first", bp[0].used == 2 && bp[1].used == 1 && bp[2].used == 0);
  ctrl_sched_job two = {"ns/two", "sim", 0, 0, 2};
  CHECK_INT("bin-packing: the 2-slot job fits after three 1-slot jobs", ctrl_sched_pick(bp, 3, &two, &pick), CTRL_FIT_OK);
  CHECK_STR("bin-packing: on the empty node", bp[pick].name, "n2");
  ctrl_sched_job one = {"ns/one", "sim", 0, 0, 1};
  CHECK_INT("bin-packing: a 1-slot job takes the partly used node", ctrl_sched_pick(bp, 3, &one, &pick), CTRL_FIT_OK);
  CHECK_STR("bin-packing: n1, not the empty n2", bp[pick].name, "n1");

  /* the pool table (--pool NAME=RESOURCE:TARGETS) and a job's pool */
  ctrl_pools pt = {.n = 0};
  char err[300];
  CHECK_INT("pool sim", ctrl_pools_add(&pt, "sim=somhop.dev/fpga-sim:hw_emu,sw_emu,cpu", err, sizeof err), 0);
  CHECK_INT("pool aws-f2", ctrl_pools_add(&pt, "aws-f2=amd.com/xilinx_aws-vu47p-f2-0:hw,cpu", err, sizeof err), 0);
  CHECK_INT("pool alveo-u55c",
            ctrl_pools_add(&pt, "alveo-u55c=amd.com/xilinx_u55c_gen3x16_xdma_base_3-0:hw", err, sizeof err), 0);
  CHECK_STR("u55c resource kept", pt.v[2].resource, "amd.com/xilinx_u55c_gen3x16_xdma_base_3-0");
  CHECK_INT("hw -> first pool listing hw (aws-f2)", ctrl_pools_for_job(&pt, "hw", NULL, err, sizeof err), 1);
  CHECK_INT("sw_emu -> sim", ctrl_pools_for_job(&pt, "sw_emu", NULL, err, sizeof err), 0);
  CHECK_INT("cpu -> sim (first listing cpu)", ctrl_pools_for_job(&pt, "cpu", NULL, err, sizeof err), 0);
  CHECK_INT("hw in spec.pool alveo-u55c", ctrl_pools_for_job(&pt, "hw", "alveo-u55c", err, sizeof err), 2);
  CHECK_INT("cpu in spec.pool aws-f2", ctrl_pools_for_job(&pt, "cpu", "aws-f2", err, sizeof err), 1);
  CHECK_INT("sw_emu not run by alveo-u55c", ctrl_pools_for_job(&pt, "sw_emu", "alveo-u55c", err, sizeof err), -1);
  CHECK_STR("  message names the pool's targets", err, "spec.target sw_emu does not run in pool alveo-u55c (its targets: hw)");
  CHECK_INT("unknown pool", ctrl_pools_for_job(&pt, "hw", "aws-f1", err, sizeof err), -1);
  CHECK_STR("  message lists the pools", err,
            "spec.pool \"aws-f1\" is not a pool of this controller (pools: sim, aws-f2, alveo-u55c)");
  CHECK_INT("unknown target", ctrl_pools_for_job(&pt, "gpu", NULL, err, sizeof err), -1);
  CHECK_INT("find by resource", ctrl_pools_find_resource(&pt, "somhop.dev/fpga-sim"), 0);
  ctrl_pools onlysim = {.n = 0};
  ctrl_pools_add(&onlysim, "sim=somhop.dev/fpga-sim:sw_emu", err, sizeof err);
  CHECK_INT("no pool runs hw", ctrl_pools_for_job(&onlysim, "hw", NULL, err, sizeof err), -1);
  CHECK("  message says so", strstr(err, "no pool of this controller runs spec.target hw") != NULL);
  const char *bad[] = {"nopool", "x=somhop.dev/fpga-sim", "-x=a.b/c:hw", "x=noslash:hw", "x=a/b/c:hw", "x=a.b/c:gpu",
                       "x=a.b/c:hw,", "sim=other.io/y:hw", "y=somhop.dev/fpga-sim:hw"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char name[96];
    snprintf(name, sizeof name, "--pool %s refused", bad[i]);
    CHECK_INT(name, ctrl_pools_add(&pt, bad[i], err, sizeof err), -1);
  }
  CHECK_INT("refusals leave the table alone", pt.n, 3);

  /* slot accounting per pool: jobs of one pool never land on (or fill) another pool's nodes */
  ctrl_sched_node mix[3] = {{"s0", "sim", 1, 1, 2, 0}, {"f0", "aws-f2", 1, 1, 1, 0}, {"u0", "alveo-u55c", 1, 1, 2, 0}};
  int per[3] = {0, 0, 0}, wrong = 0;
  const char *jp[] = {"sim", "aws-f2", "alveo-u55c"};
  for (int i = 0; i < 12; i++) {
    ctrl_sched_job x = {"ns/m", jp[i % 3], 0, 0, 1};
    if (ctrl_sched_pick(mix, 3, &x, &pick) != CTRL_FIT_OK) continue;
    wrong |= strcmp(mix[pick].pool, x.pool) != 0;
    mix[pick].used++;
    per[pick]++;
  }
  CHECK("mixed pools: every job on a node of its own pool", !wrong);
  CHECK("mixed pools: each pool filled to its own capacity (2/1/2)", per[0] == 2 && per[1] == 1 && per[2] == 2);

  /* Pod names: collision-free across jobs whose names look like other jobs' Pods */
  const char *jn[] = {"foo", "foo-s0", "foo-a1", "foo-a1-s0", "foo-a1-merge", "foo-merge", "foo-s0-a1", "foo-a1-s1",
                      "foo-a10", "foo-a1-s0-a1"};
  static char names[10 * 4 * 3][64];
  int nn = 0, att_ok = 1, dup = 0;
  const int sx[] = {0, 1, 2, -1}, at[] = {1, 2, 10};
  for (int a = 0; a < 10; a++)
    for (int b = 0; b < 4; b++)
      for (int k = 0; k < 3; k++) {
        ctrl_pod_name(jn[a], sx[b], at[k], names[nn], sizeof names[nn]);
        att_ok &= ctrl_pod_attempt(names[nn]) == at[k];
        nn++;
      }
  for (int a = 0; a < nn; a++)
    for (int b = a + 1; b < nn; b++) dup += strcmp(names[a], names[b]) == 0;
  CHECK_INT("120 Pod names of 10 look-alike jobs x (job, 2 shards, merge) x 3 attempts: no duplicate", dup, 0);
  CHECK("the attempt reads back from every name", att_ok);
  char pn[64];
  ctrl_pod_name("foo", 1, 1, pn, sizeof pn);
  CHECK_STR("shard 0 of foo", pn, "foo-a1-s0");
  ctrl_pod_name("foo-s0", 0, 1, pn, sizeof pn);
  CHECK_STR("the one-Pod job foo-s0", pn, "foo-s0-a1");
  ctrl_pod_name("foo", -1, 3, pn, sizeof pn);
  CHECK_STR("merge attempt 3 of foo", pn, "foo-a3-merge");
  CHECK_INT("no attempt in a foreign name", ctrl_pod_attempt("foo-bar"), 0);
  CHECK_INT("no attempt in -s0 alone", ctrl_pod_attempt("foo-s0"), 0);

  CHECK_NEAR("epoch", ctrl_parse_time("1970-01-01T00:00:00Z"), 0, 0);
  CHECK_NEAR("2026-11-26T15:04:05Z", ctrl_parse_time("2026-11-26T15:04:05Z"), 1795705445.0, 0);
  CHECK_NEAR("fraction", ctrl_parse_time("2026-11-26T15:04:05.250000Z"), 1795705445.25, 1e-6);
  CHECK_NEAR("offset", ctrl_parse_time("2026-11-26T16:04:05+01:00"), 1795705445.0, 0);
  CHECK_NEAR("malformed", ctrl_parse_time("2026-11-26 junk"), -1, 0);
  char buf[40];
  ctrl_format_time(1795705445.25, 1, buf, sizeof buf);
  CHECK_STR("format micro", buf, "2026-11-26T15:04:05.250000Z");

  ctrl_map m = {0};
  char key[32];
  int ok = 1;
  for (int i = 0; i < 1000; i++) {
    snprintf(key, sizeof key, "k%d", i);
    ok &= ctrl_map_put(&m, key, (void *)(intptr_t)(i + 1), NULL) == 0;
  }
  CHECK("map: 1000 puts", ok && m.n == 1000);
  for (int i = 0; i < 1000; i += 2) {
    snprintf(key, sizeof key, "k%d", i);
    ok &= (intptr_t)ctrl_map_del(&m, key) == i + 1;
  }
  CHECK("map: deletes return values", ok);
  CHECK_INT("map: 500 left", m.n, 500);
  CHECK("map: k1 present, k0 absent", ctrl_map_get(&m, "k1") == (void *)2 && !ctrl_map_has(&m, "k0"));
  ctrl_map_clear(&m);
  return check_done();
}
