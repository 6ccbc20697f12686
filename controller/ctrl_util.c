/*
 * ctrl_util.c — clocks, string map, line splitter and scheduler arithmetic
 * (see ctrl_util.h for the contracts). No network, no Kubernetes.
 *
 * Sections: clocks | map | linebuf | scheduler arithmetic
 */
#include "ctrl_util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- clocks ------------------------------------------------------------ */
double ctrl_mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double ctrl_wall(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int digits(const char *s, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (!isdigit((unsigned char)s[i])) return -1;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return 0;
}

double ctrl_parse_time(const char *s) {
  int Y, M, D, h, m, sec;
  if (!s || strlen(s) < 20) return -1;
  if (digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) || s[7] != '-' ||
      digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &m) || s[16] != ':' ||
      digits(s + 17, 2, &sec))
    return -1;
  if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60) return -1;
  const char *p = s + 19;
  double frac = 0, scale = 0.1;
  if (*p == '.') {
    p++;
    if (!isdigit((unsigned char)*p)) return -1;
    while (isdigit((unsigned char)*p)) {
      frac += (*p - '0') * scale;
      scale *= 0.1;
      p++;
    }
  }
  long off = 0;
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    int oh, om;
    if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om)) return -1;
    off = (oh * 3600L + om * 60L) * (*p == '+' ? 1 : -1);
    p += 6;
  } else {
    return -1;
  }
  if (*p) return -1;
  /* days from civil (proleptic Gregorian), H. Hinnant's algorithm */
  int y = Y - (M <= 2);
  long era = (y >= 0 ? y : y - 399) / 400;
  long yoe = y - era * 400;
  long doy = (153L * (M + (M > 2 ? -3 : 9)) + 2) / 5 + D - 1;
  long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  long days = era * 146097 + doe - 719468;
  return (double)(days * 86400L + h * 3600L + m * 60L + sec - off) + frac;
}

void ctrl_format_time(double t, int micro, char *buf, size_t len) {
  time_t whole = (time_t)t;
  long us = (long)((t - (double)whole) * 1e6 + 0.5);
  if (us >= 1000000) {
    whole++;
    us -= 1000000;
  }
  struct tm tm;
  gmtime_r(&whole, &tm);
  if (micro)
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, us);
  else
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* ---- map ----------------------------------------------------------------- */
static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ULL;
  }
  return h;
}

static ctrl_map_ent *find(const ctrl_map *m, const char *key) {
  if (!m->nb) return NULL;
  for (ctrl_map_ent *e = m->b[hash_str(key) & (m->nb - 1)]; e; e = e->next)
    if (strcmp(e->key, key) == 0) return e;
  return NULL;
}

void *ctrl_map_get(const ctrl_map *m, const char *key) {
  ctrl_map_ent *e = find(m, key);
  return e ? e->val : NULL;
}

int ctrl_map_has(const ctrl_map *m, const char *key) { return find(m, key) != NULL; }

static int grow(ctrl_map *m) {
  size_t nb = m->nb ? m->nb * 2 : 16;
  if (nb > SIZE_MAX / sizeof(ctrl_map_ent *)) return -1;
  ctrl_map_ent **b = calloc(nb, sizeof *b);
  if (!b) return -1;
  for (size_t i = 0; i < m->nb; i++) {
    ctrl_map_ent *e = m->b[i];
    while (e) {
      ctrl_map_ent *next = e->next;
      size_t k = hash_str(e->key) & (nb - 1);
      e->next = b[k];
      b[k] = e;
      e = next;
    }
  }
  free(m->b);
  m->b = b;
  m->nb = nb;
  return 0;
}

int ctrl_map_put(ctrl_map *m, const char *key, void *val, void **old) {
  if (old) *old = NULL;
  ctrl_map_ent *e = find(m, key);
  if (e) {
    if (old) *old = e->val;
    e->val = val;
    return 0;
  }
  if ((m->n + 1) * 4 > m->nb * 3 && grow(m) != 0) return -1;
  e = malloc(sizeof *e);
  if (!e) return -1;
  e->key = strdup(key);
  if (!e->key) {
    free(e);
    return -1;
  }
  e->val = val;
  size_t k = hash_str(key) & (m->nb - 1);
  e->next = m->b[k];
  m->b[k] = e;
  m->n++;
  return 0;
}

void *ctrl_map_del(ctrl_map *m, const char *key) {
  if (!m->nb) return NULL;
  ctrl_map_ent **pp = &m->b[hash_str(key) & (m->nb - 1)];
  for (; *pp; pp = &(*pp)->next) {
    if (strcmp((*pp)->key, key) == 0) {
      ctrl_map_ent *e = *pp;
      void *v = e->val;
      *pp = e->next;
      free(e->key);
      free(e);
      m->n--;
      return v;
    }
  }
  return NULL;
}

void ctrl_map_each(const ctrl_map *m, void (*fn)(const char *, void *, void *), void *arg) {
  for (size_t i = 0; i < m->nb; i++)
    for (ctrl_map_ent *e = m->b[i]; e; e = e->next) fn(e->key, e->val, arg);
}

void ctrl_map_clear(ctrl_map *m) {
  for (size_t i = 0; i < m->nb; i++) {
    ctrl_map_ent *e = m->b[i];
    while (e) {
      ctrl_map_ent *next = e->next;
      free(e->key);
      free(e);
      e = next;
    }
  }
  free(m->b);
  m->b = NULL;
  m->nb = m->n = 0;
}

/* ---- linebuf ------------------------------------------------------------- */
int ctrl_linebuf_feed(ctrl_linebuf *lb, const char *data, size_t n,
                      int (*fn)(char *line, size_t len, void *arg), void *arg) {
  size_t max = lb->max_line ? lb->max_line : (size_t)64 << 20;
  while (n > 0) {
    const char *nl = memchr(data, '\n', n);
    size_t take = nl ? (size_t)(nl - data) : n;
    if (lb->len + take > max) return -1;
    if (lb->len + take + 1 > lb->cap) {
      size_t cap = lb->cap ? lb->cap : 4096;
      while (cap < lb->len + take + 1) cap *= 2;
      char *nb = realloc(lb->buf, cap);
      if (!nb) return -1;
      lb->buf = nb;
      lb->cap = cap;
    }
    memcpy(lb->buf + lb->len, data, take);
    lb->len += take;
    data += take;
    n -= take;
    if (!nl) break;
    data++; /* the '\n' */
    n--;
    size_t len = lb->len;
    if (len && lb->buf[len - 1] == '\r') len--;
    lb->buf[len] = '\0';
    lb->len = 0;
    if (len) {
      int rc = fn(lb->buf, len, arg);
      if (rc) return rc;
    }
  }
  return 0;
}

void ctrl_linebuf_reset(ctrl_linebuf *lb) { lb->len = 0; }

void ctrl_linebuf_free(ctrl_linebuf *lb) {
  free(lb->buf);
  lb->buf = NULL;
  lb->len = lb->cap = 0;
}

/* ---- scheduler arithmetic ------------------------------------------------ */
static int job_cmp(const void *a, const void *b) {
  const ctrl_sched_job *x = a, *y = b;
  if (x->priority != y->priority) return x->priority > y->priority ? -1 : 1;
  if (x->created != y->created) return x->created < y->created ? -1 : 1;
  return strcmp(x->key, y->key);
}

void ctrl_sched_sort(ctrl_sched_job *jobs, size_t n) {
  if (n > 1) qsort(jobs, n, sizeof *jobs, job_cmp);
}

int ctrl_sched_pick(const ctrl_sched_node *nodes, size_t n, const ctrl_sched_job *j, size_t *pick) {
  int eligible = 0;
  long best_free = 0;
  size_t best = 0;
  int found = 0;
  long need = j->fpgas > 0 ? j->fpgas : 1;
  for (size_t i = 0; i < n; i++) {
    const ctrl_sched_node *nd = &nodes[i];
    if (!nd->pool || !j->pool || strcmp(nd->pool, j->pool) != 0) continue;
    if (!nd->ready || !nd->schedulable || nd->allocatable < need) continue;
    eligible = 1;
    long free_slots = nd->allocatable - nd->used;
    if (free_slots < need) continue;
    /* most-allocated (bin-packing): the fullest node that still fits, so free slots stay
     * together on few nodes and a multi-slot job finds a node with room */
    if (!found || free_slots < best_free ||
        (free_slots == best_free && strcmp(nd->name, nodes[best].name) < 0)) {
      found = 1;
      best = i;
      best_free = free_slots;
    }
  }
  if (found) {
    *pick = best;
    return CTRL_FIT_OK;
  }
  return eligible ? CTRL_FIT_BUSY : CTRL_FIT_NO_NODE;
}

/* ---- Pod names ------------------------------------------------------------ */
void ctrl_pod_name(const char *job, int shard_ix, int attempt, char *out, size_t cap) {
  if (shard_ix > 0) snprintf(out, cap, "%s-a%d-s%d", job, attempt, shard_ix - 1);
  else if (shard_ix < 0) snprintf(out, cap, "%s-a%d-merge", job, attempt);
  else snprintf(out, cap, "%s-a%d", job, attempt);
}

/* Length of s without a trailing "-<c><digits>" (1..9 digits, no leading zero), or 0 if s has none. */
static size_t strip_num(const char *s, size_t l, char c) {
  size_t d = l;
  while (d > 0 && isdigit((unsigned char)s[d - 1])) d--;
  if (d == l || l - d > 9 || (s[d] == '0' && l - d > 1) || d < 3 || s[d - 1] != c || s[d - 2] != '-') return 0;
  return d - 2;
}

int ctrl_pod_attempt(const char *pod) {
  size_t l = pod ? strlen(pod) : 0, k;
  if (l > 6 && strcmp(pod + l - 6, "-merge") == 0) l -= 6;       /* <job>-a<N>-merge */
  else if ((k = strip_num(pod, l, 's')) > 0 && strip_num(pod, k, 'a') > 0) l = k; /* <job>-a<N>-s<i> */
  k = strip_num(pod, l, 'a');
  return k > 0 ? atoi(pod + k + 2) : 0;
}

/* ---- FPGA pools ------------------------------------------------------------ */
const char *const ctrl_pool_targets[] = {"hw", "hw_emu", "sw_emu", "cpu", NULL};

static int target_bit(const char *t, size_t l) {
  for (int i = 0; ctrl_pool_targets[i]; i++)
    if (strlen(ctrl_pool_targets[i]) == l && strncmp(ctrl_pool_targets[i], t, l) == 0) return i;
  return -1;
}

/* A Kubernetes label value (non-empty here): [A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])? */
static int label_value_ok(const char *s, size_t l) {
  if (l == 0 || l > 63 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[l - 1])) return 0;
  for (size_t i = 0; i < l; i++)
    if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.') return 0;
  return 1;
}

/* An extended resource name: <domain prefix>/<name>, both parts of [A-Za-z0-9._-], the
 * name at most 63 characters (what the apiserver accepts for extended resources). */
static int resource_ok(const char *s, size_t l) {
  const char *slash = memchr(s, '/', l);
  if (!slash || slash == s || (size_t)(slash - s) > 253 || l - (size_t)(slash - s) - 1 == 0 ||
      l - (size_t)(slash - s) - 1 > 63 || memchr(slash + 1, '/', l - (size_t)(slash - s) - 1))
    return 0;
  for (size_t i = 0; i < l; i++)
    if (!isalnum((unsigned char)s[i]) && !strchr("._-/", s[i])) return 0;
  return 1;
}

int ctrl_pools_add(ctrl_pools *t, const char *spec, char *err, size_t len) {
  const char *eq = strchr(spec, '='), *colon = eq ? strchr(eq, ':') : NULL;
  if (!eq || !colon) {
    snprintf(err, len, "--pool \"%.200s\": expected NAME=RESOURCE:TARGET[,TARGET...]", spec);
    return -1;
  }
  if (t->n >= CTRL_POOLS_MAX) {
    snprintf(err, len, "--pool \"%.200s\": at most %d pools", spec, CTRL_POOLS_MAX);
    return -1;
  }
  ctrl_pool p = {.targets = 0};
  size_t nl = (size_t)(eq - spec), rl = (size_t)(colon - eq - 1);
  if (!label_value_ok(spec, nl)) {
    snprintf(err, len, "--pool \"%.200s\": pool name \"%.*s\" is not a label value (1..63 of [A-Za-z0-9-_.], "
             "alphanumeric at both ends)", spec, (int)(nl < 100 ? nl : 100), spec);
    return -1;
  }
  if (!resource_ok(eq + 1, rl)) {
    snprintf(err, len, "--pool \"%.200s\": resource \"%.*s\" is not an extended resource name (prefix/name)", spec,
             (int)(rl < 200 ? rl : 200), eq + 1);
    return -1;
  }
  memcpy(p.name, spec, nl);
  memcpy(p.resource, eq + 1, rl);
  for (const char *s = colon + 1;;) {
    const char *e = strchr(s, ',');
    size_t l = e ? (size_t)(e - s) : strlen(s);
    int b = target_bit(s, l);
    if (b < 0) {
      snprintf(err, len, "--pool \"%.200s\": target \"%.*s\" is not one of hw, hw_emu, sw_emu, cpu", spec,
               (int)(l < 60 ? l : 60), s);
      return -1;
    }
    p.targets |= 1u << b;
    if (!e) break;
    s = e + 1;
  }
  if (ctrl_pools_find(t, p.name) >= 0 || ctrl_pools_find_resource(t, p.resource) >= 0) {
    snprintf(err, len, "--pool \"%.200s\": pool %s or resource %s given twice", spec, p.name, p.resource);
    return -1;
  }
  t->v[t->n++] = p;
  return 0;
}

int ctrl_pools_find(const ctrl_pools *t, const char *name) {
  for (int i = 0; name && i < t->n; i++)
    if (strcmp(t->v[i].name, name) == 0) return i;
  return -1;
}

int ctrl_pools_find_resource(const ctrl_pools *t, const char *res) {
  for (int i = 0; res && i < t->n; i++)
    if (strcmp(t->v[i].resource, res) == 0) return i;
  return -1;
}

void ctrl_pools_names(const ctrl_pools *t, char *buf, size_t len) {
  size_t off = 0;
  buf[0] = 0;
  for (int i = 0; i < t->n && off < len; i++)
    off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", t->v[i].name);
}

int ctrl_pools_for_job(const ctrl_pools *t, const char *target, const char *pool, char *err, size_t len) {
  int b = target ? target_bit(target, strlen(target)) : -1;
  if (b < 0) {
    snprintf(err, len, "spec.target \"%.60s\" is not one of hw, hw_emu, sw_emu, cpu", target ? target : "");
    return -1;
  }
  char names[512];
  ctrl_pools_names(t, names, sizeof names);
  if (pool) {
    int i = ctrl_pools_find(t, pool);
    if (i < 0) {
      snprintf(err, len, "spec.pool \"%.63s\" is not a pool of this controller (pools: %s)", pool, names);
      return -1;
    }
    if (!(t->v[i].targets & (1u << b))) {
      char tl[64] = "";
      size_t off = 0;
      for (int k = 0; ctrl_pool_targets[k]; k++)
        if (t->v[i].targets & (1u << k))
          off += (size_t)snprintf(tl + off, sizeof tl - off, "%s%s", off ? ", " : "", ctrl_pool_targets[k]);
      snprintf(err, len, "spec.target %s does not run in pool %s (its targets: %s)", target, pool, tl);
      return -1;
    }
    return i;
  }
  for (int i = 0; i < t->n; i++)
    if (t->v[i].targets & (1u << b)) return i;
  snprintf(err, len, "no pool of this controller runs spec.target %s (pools: %s); set spec.pool or add a --pool",
           target, names);
  return -1;
}
