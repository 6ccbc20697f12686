/*
 * ctrl_queue.c — the rate-limited work queue (contract in ctrl_util.h).
 *
 * State under one mutex:
 *   fifo        ring of ready keys
 *   urgent      ring of ready keys served first (may also sit in fifo: a popped key is handed
 *               out only if it is dirty and not processing, else the stale copy is dropped)
 *   dirty       keys that need processing (in fifo, or processing + re-added)
 *   processing  keys handed out by get() and not yet done()
 *   failures    per-key failure counts for the exponential back-off
 *   heap        min-heap of (due time, key) for delayed adds; `due` maps a
 *               key to its earliest pending time so stale heap entries are
 *               recognised and dropped
 */
#include "ctrl_util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  double due; /* monotonic seconds */
  char *key;  /* owned */
} delayed;

/* A ring buffer of owned keys. */
typedef struct {
  char **v;
  size_t head, count, cap;
} ring;

struct ctrl_queue {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  ring fifo;   /* ready keys */
  ring urgent; /* ready keys handed out before the fifo (ctrl_queue_add_urgent) */
  size_t ready; /* dirty keys not processing = keys a get() can hand out */
  ctrl_map dirty, processing; /* values unused (non-NULL marker) */
  ctrl_map urgent_later;      /* processing keys re-added with add_urgent(): done() puts them
                                 in the urgent ring */
  ctrl_map failures;          /* value: (void *)(intptr_t)count */
  ctrl_map due;               /* value: pointer to a malloc'd double */
  delayed *heap;
  size_t nheap, capheap;
  double base_s, max_s;
  int shutdown;
};

static void *const MARK = (void *)1;

ctrl_queue *ctrl_queue_new(double base_s, double max_s) {
  ctrl_queue *q = calloc(1, sizeof *q);
  if (!q) return NULL;
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_mutex_init(&q->mu, NULL);
  pthread_cond_init(&q->cv, &ca);
  pthread_condattr_destroy(&ca);
  q->base_s = base_s > 0 ? base_s : 0.005;
  q->max_s = max_s > 0 ? max_s : 1000.0;
  return q;
}

static void free_due(const char *k, void *v, void *a) {
  (void)k;
  (void)a;
  free(v);
}

static void ring_free(ring *r) {
  for (size_t i = 0; i < r->count; i++) free(r->v[(r->head + i) % r->cap]);
  free(r->v);
}

void ctrl_queue_free(ctrl_queue *q) {
  if (!q) return;
  ring_free(&q->fifo);
  ring_free(&q->urgent);
  for (size_t i = 0; i < q->nheap; i++) free(q->heap[i].key);
  free(q->heap);
  ctrl_map_each(&q->due, free_due, NULL);
  ctrl_map_clear(&q->due);
  ctrl_map_clear(&q->dirty);
  ctrl_map_clear(&q->processing);
  ctrl_map_clear(&q->urgent_later);
  ctrl_map_clear(&q->failures);
  pthread_cond_destroy(&q->cv);
  pthread_mutex_destroy(&q->mu);
  free(q);
}

static int ring_push(ring *r, const char *key) {
  if (r->count == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 64;
    if (cap > SIZE_MAX / sizeof(char *)) return -1;
    char **n = malloc(cap * sizeof *n);
    if (!n) return -1;
    for (size_t i = 0; i < r->count; i++) n[i] = r->v[(r->head + i) % r->cap];
    free(r->v);
    r->v = n;
    r->cap = cap;
    r->head = 0;
  }
  char *k = strdup(key);
  if (!k) return -1;
  r->v[(r->head + r->count) % r->cap] = k;
  r->count++;
  return 0;
}

static char *ring_pop(ring *r) {
  if (!r->count) return NULL;
  char *k = r->v[r->head];
  r->head = (r->head + 1) % r->cap;
  r->count--;
  return k;
}

/* Caller holds mu. */
static int add_locked(ctrl_queue *q, const char *key, int urgent) {
  if (q->shutdown) return 0;
  int dirty = ctrl_map_has(&q->dirty, key), busy = ctrl_map_has(&q->processing, key);
  if (dirty && !urgent) return 0;          /* already waiting (or replayed by done()) */
  if (dirty && busy) {                     /* replayed by done(): make that urgent */
    ctrl_map_put(&q->urgent_later, key, MARK, NULL);
    return 0;
  }
  if (!dirty && ctrl_map_put(&q->dirty, key, MARK, NULL) != 0) return -1;
  if (busy) { /* re-queued by done(), in the urgent ring if asked so */
    if (urgent) ctrl_map_put(&q->urgent_later, key, MARK, NULL);
    return 0;
  }
  if (ring_push(urgent ? &q->urgent : &q->fifo, key) != 0) {
    if (!dirty) ctrl_map_del(&q->dirty, key);
    return -1;
  }
  if (!dirty) q->ready++;
  pthread_cond_signal(&q->cv);
  return 0;
}

int ctrl_queue_add_urgent(ctrl_queue *q, const char *key) {
  pthread_mutex_lock(&q->mu);
  int rc = add_locked(q, key, 1);
  pthread_mutex_unlock(&q->mu);
  return rc;
}

int ctrl_queue_add(ctrl_queue *q, const char *key) {
  pthread_mutex_lock(&q->mu);
  int rc = add_locked(q, key, 0);
  pthread_mutex_unlock(&q->mu);
  return rc;
}

static void heap_up(ctrl_queue *q, size_t i) {
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (q->heap[p].due <= q->heap[i].due) break;
    delayed t = q->heap[p];
    q->heap[p] = q->heap[i];
    q->heap[i] = t;
    i = p;
  }
}

static void heap_down(ctrl_queue *q, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < q->nheap && q->heap[l].due < q->heap[m].due) m = l;
    if (r < q->nheap && q->heap[r].due < q->heap[m].due) m = r;
    if (m == i) break;
    delayed t = q->heap[m];
    q->heap[m] = q->heap[i];
    q->heap[i] = t;
    i = m;
  }
}

static int add_after_locked(ctrl_queue *q, const char *key, double delay_s) {
  if (q->shutdown) return 0;
  if (delay_s <= 0) return add_locked(q, key, 0);
  double due = ctrl_mono() + delay_s;
  double *cur = ctrl_map_get(&q->due, key);
  if (cur && *cur <= due) return 0; /* an earlier add is already pending */
  if (q->nheap == q->capheap) {
    size_t cap = q->capheap ? q->capheap * 2 : 64;
    if (cap > SIZE_MAX / sizeof(delayed)) return -1;
    delayed *n = realloc(q->heap, cap * sizeof *n);
    if (!n) return -1;
    q->heap = n;
    q->capheap = cap;
  }
  char *k = strdup(key);
  if (!k) return -1;
  if (cur) {
    *cur = due;
  } else {
    double *d = malloc(sizeof *d);
    if (!d || ctrl_map_put(&q->due, key, d, NULL) != 0) {
      free(d);
      free(k);
      return -1;
    }
    *d = due;
  }
  q->heap[q->nheap].due = due;
  q->heap[q->nheap].key = k;
  heap_up(q, q->nheap++);
  pthread_cond_broadcast(&q->cv); /* a waiter may need to wake earlier */
  return 0;
}

int ctrl_queue_add_after(ctrl_queue *q, const char *key, double delay_s) {
  pthread_mutex_lock(&q->mu);
  int rc = add_after_locked(q, key, delay_s);
  pthread_mutex_unlock(&q->mu);
  return rc;
}

static double backoff(const ctrl_queue *q, long failures) {
  /* base * 2^failures, capped; computed in floating point to avoid overflow */
  double d = q->base_s * pow(2.0, (double)(failures > 1000 ? 1000 : failures));
  return d > q->max_s ? q->max_s : d;
}

double ctrl_queue_when(ctrl_queue *q, const char *key) {
  pthread_mutex_lock(&q->mu);
  long f = (long)(intptr_t)ctrl_map_get(&q->failures, key);
  pthread_mutex_unlock(&q->mu);
  return backoff(q, f);
}

int ctrl_queue_add_rate_limited(ctrl_queue *q, const char *key) {
  pthread_mutex_lock(&q->mu);
  long f = (long)(intptr_t)ctrl_map_get(&q->failures, key);
  double d = backoff(q, f);
  int rc = ctrl_map_put(&q->failures, key, (void *)(intptr_t)(f + 1), NULL);
  if (rc == 0) rc = add_after_locked(q, key, d);
  pthread_mutex_unlock(&q->mu);
  return rc;
}

void ctrl_queue_forget(ctrl_queue *q, const char *key) {
  pthread_mutex_lock(&q->mu);
  ctrl_map_del(&q->failures, key);
  pthread_mutex_unlock(&q->mu);
}

int ctrl_queue_num_requeues(ctrl_queue *q, const char *key) {
  pthread_mutex_lock(&q->mu);
  int n = (int)(intptr_t)ctrl_map_get(&q->failures, key);
  pthread_mutex_unlock(&q->mu);
  return n;
}

/* Moves due delayed keys into the fifo; returns the next due time or -1. */
static double promote_locked(ctrl_queue *q) {
  double now = ctrl_mono();
  while (q->nheap > 0) {
    delayed top = q->heap[0];
    double *cur = ctrl_map_get(&q->due, top.key);
    int stale = !cur || *cur != top.due;
    if (!stale && top.due > now) return top.due;
    q->heap[0] = q->heap[--q->nheap];
    heap_down(q, 0);
    if (!stale) {
      free(ctrl_map_del(&q->due, top.key));
      add_locked(q, top.key, 0); /* ENOMEM here drops the retry; nothing better to do */
    }
    free(top.key);
  }
  return -1;
}

char *ctrl_queue_get(ctrl_queue *q, double timeout_s, int *timed_out) {
  if (timed_out) *timed_out = 0;
  double deadline = timeout_s >= 0 ? ctrl_mono() + timeout_s : -1;
  pthread_mutex_lock(&q->mu);
  for (;;) {
    if (q->shutdown) {
      pthread_mutex_unlock(&q->mu);
      return NULL;
    }
    double next = promote_locked(q);
    char *key = NULL;
    while (!key && (q->urgent.count || q->fifo.count)) {
      key = ring_pop(q->urgent.count ? &q->urgent : &q->fifo);
      if (!ctrl_map_has(&q->dirty, key) || ctrl_map_has(&q->processing, key)) {
        free(key); /* stale copy: handed out through the other ring already */
        key = NULL;
      }
    }
    if (key) {
      ctrl_map_del(&q->dirty, key);
      if (ctrl_map_put(&q->processing, key, MARK, NULL) != 0) {
        /* cannot track it: put it back and report nothing this time */
        ring_push(&q->fifo, key);
        ctrl_map_put(&q->dirty, key, MARK, NULL);
        free(key);
        pthread_mutex_unlock(&q->mu);
        return NULL;
      }
      q->ready--;
      pthread_mutex_unlock(&q->mu);
      return key;
    }
    double wake = next;
    if (deadline >= 0 && (wake < 0 || deadline < wake)) wake = deadline;
    if (deadline >= 0 && ctrl_mono() >= deadline) {
      if (timed_out) *timed_out = 1;
      pthread_mutex_unlock(&q->mu);
      return NULL;
    }
    if (wake < 0) {
      pthread_cond_wait(&q->cv, &q->mu);
    } else {
      struct timespec ts;
      ts.tv_sec = (time_t)wake;
      ts.tv_nsec = (long)((wake - (double)ts.tv_sec) * 1e9);
      if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
      }
      pthread_cond_timedwait(&q->cv, &q->mu, &ts);
    }
  }
}

void ctrl_queue_done(ctrl_queue *q, const char *key) {
  pthread_mutex_lock(&q->mu);
  ctrl_map_del(&q->processing, key);
  int urgent = ctrl_map_del(&q->urgent_later, key) != NULL;
  if (ctrl_map_has(&q->dirty, key) && !q->shutdown) {
    if (ring_push(urgent ? &q->urgent : &q->fifo, key) == 0) {
      q->ready++;
      pthread_cond_signal(&q->cv);
    } else {
      ctrl_map_del(&q->dirty, key);
    }
  }
  pthread_mutex_unlock(&q->mu);
}

size_t ctrl_queue_len(ctrl_queue *q) {
  pthread_mutex_lock(&q->mu);
  size_t n = q->ready;
  pthread_mutex_unlock(&q->mu);
  return n;
}

size_t ctrl_queue_delayed(ctrl_queue *q) {
  pthread_mutex_lock(&q->mu);
  size_t n = q->due.n;
  pthread_mutex_unlock(&q->mu);
  return n;
}

void ctrl_queue_shutdown(ctrl_queue *q) {
  pthread_mutex_lock(&q->mu);
  q->shutdown = 1;
  pthread_cond_broadcast(&q->cv);
  pthread_mutex_unlock(&q->mu);
}
