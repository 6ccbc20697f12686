/*
 * node_xclbin.c — per-slot xclbin holdings of somhop-node's sim nodes (see node_xclbin.h).
 */
#include "node/node_xclbin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NX_MAX_SLOTS 64

typedef struct {
  char held[NX_MAX_SLOTS][128]; /* xclbin each slot holds, "" = never loaded */
  char user[NX_MAX_SLOTS][64];  /* uid of the Pod using the slot, "" = free */
  unsigned long reprograms;
} nx_node;

static nx_node *nx;
static int nx_n, nx_slots;

int node_xclbin_init(int nodes, int slots) {
  nx_slots = slots < NX_MAX_SLOTS ? slots : NX_MAX_SLOTS;
  nx_n = nodes;
  nx = calloc((size_t)(nodes > 0 ? nodes : 1), sizeof *nx);
  return nx ? 0 : -1;
}

const char *node_xclbin_of(const cJSON *pod) {
  const cJSON *ann = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(pod, "metadata"), "annotations");
  const cJSON *x = cJSON_GetObjectItemCaseSensitive(ann, NODE_XCLBIN_ANN);
  return cJSON_IsString(x) && x->valuestring[0] ? x->valuestring : NULL;
}

char *node_xclbin_load(int ni, const char *uid, const char *x, int want) {
  if (!nx || ni < 0 || ni >= nx_n || !x || !*x || !uid) return NULL;
  nx_node *n = &nx[ni];
  int changed = 0;
  for (int pass = 0; pass < 3 && want > 0; pass++) /* holding x, then empty, then reprogram */
    for (int s = 0; s < nx_slots && want > 0; s++) {
      if (n->user[s][0]) continue;
      int fits = pass == 0 ? strcmp(n->held[s], x) == 0 : pass == 1 ? n->held[s][0] == 0 : 1;
      if (!fits) continue;
      if (pass == 2) n->reprograms++;
      if (pass > 0) changed = 1;
      snprintf(n->held[s], sizeof n->held[s], "%s", x);
      snprintf(n->user[s], sizeof n->user[s], "%s", uid);
      want--;
    }
  if (!changed) return NULL;
  size_t cap = (size_t)nx_slots * 130 + 200, off;
  char *body = malloc(cap);
  if (!body) return NULL;
  off = (size_t)snprintf(body, cap, "{\"metadata\":{\"annotations\":{\"%s\":\"", NODE_XCLBINS_ANN);
  for (int s = 0; s < nx_slots; s++) off += (size_t)snprintf(body + off, cap - off, "%s%s", s ? "," : "", n->held[s]);
  snprintf(body + off, cap - off, "\",\"%s\":\"%lu\"}}}", NODE_REPROGRAMS_ANN, n->reprograms);
  return body;
}

void node_xclbin_release(int ni, const char *uid) {
  if (!nx || ni < 0 || ni >= nx_n || !uid || !*uid) return;
  for (int s = 0; s < nx_slots; s++)
    if (strcmp(nx[ni].user[s], uid) == 0) nx[ni].user[s][0] = 0;
}
