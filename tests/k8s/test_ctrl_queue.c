/* Unit tests of the controller work queue (controller/ctrl_queue.c): de-duplication,
 * not-handed-to-two-workers, per-key exponential back-off, forget, delayed adds,
 * shutdown, and a multi-threaded exclusivity check. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "ctrl_util.h"

static void sleep_s(double s) {
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  nanosleep(&ts, NULL);
}

typedef struct {
  ctrl_queue *q;
  pthread_mutex_t mu;
  int busy[8];       /* per key: workers holding it right now */
  int max_busy;      /* worst concurrency seen for one key */
  int handled[8];
} mt_ctx;

static void *worker(void *arg) {
  mt_ctx *m = arg;
  for (;;) {
    char *k = ctrl_queue_get(m->q, 2.0, NULL);
    if (!k) break;
    int i = k[1] - '0';
    pthread_mutex_lock(&m->mu);
    m->busy[i]++;
    if (m->busy[i] > m->max_busy) m->max_busy = m->busy[i];
    m->handled[i]++;
    pthread_mutex_unlock(&m->mu);
    sleep_s(0.0005);
    pthread_mutex_lock(&m->mu);
    m->busy[i]--;
    pthread_mutex_unlock(&m->mu);
    ctrl_queue_done(m->q, k);
    free(k);
  }
  return NULL;
}

static void *adder(void *arg) {
  mt_ctx *m = arg;
  char k[3] = "k0";
  for (int n = 0; n < 4000; n++) {
    k[1] = (char)('0' + n % 8);
    ctrl_queue_add(m->q, k);
  }
  return NULL;
}

int main(void) {
  ctrl_queue *q = ctrl_queue_new(0, 0);
  CHECK("queue allocated", q != NULL);
  if (!q) return check_done();

  /* de-duplication */
  ctrl_queue_add(q, "ns/a");
  ctrl_queue_add(q, "ns/a");
  ctrl_queue_add(q, "ns/b");
  CHECK_INT("dedup: two distinct keys queued", ctrl_queue_len(q), 2);
  char *a = ctrl_queue_get(q, 0, NULL);
  CHECK_STR("fifo order: first key", a, "ns/a");

  /* a processing key re-added is not handed out again before done() */
  ctrl_queue_add(q, "ns/a");
  CHECK_INT("processing key re-added is not ready", ctrl_queue_len(q), 1);
  char *b = ctrl_queue_get(q, 0, NULL);
  CHECK_STR("next key is b", b, "ns/b");
  int to = 0;
  char *none = ctrl_queue_get(q, 0.05, &to);
  CHECK("nothing ready while a is processing", none == NULL && to == 1);
  free(none);
  ctrl_queue_done(q, a);
  CHECK_INT("done() re-queues the dirty key", ctrl_queue_len(q), 1);
  char *a2 = ctrl_queue_get(q, 0, NULL);
  CHECK_STR("a handed out again after done", a2, "ns/a");
  ctrl_queue_done(q, a2);
  ctrl_queue_done(q, b);
  CHECK_INT("queue empty", ctrl_queue_len(q), 0);
  free(a);
  free(a2);
  free(b);

  /* exponential back-off 5 ms * 2^n, capped at 1000 s; forget resets */
  CHECK_NEAR("first back-off 5 ms", ctrl_queue_when(q, "ns/x"), 0.005, 1e-12);
  for (int i = 0; i < 3; i++) ctrl_queue_add_rate_limited(q, "ns/x");
  CHECK_INT("num requeues 3", ctrl_queue_num_requeues(q, "ns/x"), 3);
  CHECK_NEAR("4th back-off 40 ms", ctrl_queue_when(q, "ns/x"), 0.040, 1e-12);
  for (int i = 0; i < 30; i++) ctrl_queue_add_rate_limited(q, "ns/x");
  CHECK_NEAR("back-off capped at 1000 s", ctrl_queue_when(q, "ns/x"), 1000.0, 1e-9);
  ctrl_queue_forget(q, "ns/x");
  CHECK_INT("forget resets failures", ctrl_queue_num_requeues(q, "ns/x"), 0);
  CHECK_NEAR("back-off after forget 5 ms", ctrl_queue_when(q, "ns/x"), 0.005, 1e-12);
  char *x = ctrl_queue_get(q, 1.0, NULL);
  CHECK_STR("rate-limited key arrives (earliest due time wins)", x, "ns/x");
  ctrl_queue_done(q, x);
  free(x);

  /* delayed add: not before its time */
  double t0 = ctrl_mono();
  ctrl_queue_add_after(q, "ns/late", 0.15);
  ctrl_queue_add_after(q, "ns/late", 5.0); /* later time for the same key is ignored */
  CHECK_INT("delayed key not ready yet", ctrl_queue_len(q), 0);
  CHECK_INT("one delayed key", ctrl_queue_delayed(q), 1);
  char *l = ctrl_queue_get(q, 3.0, NULL);
  double waited = ctrl_mono() - t0;
  CHECK_STR("delayed key delivered", l, "ns/late");
  CHECK("delayed key waited >= 0.15 s", waited >= 0.149);
  CHECK("delayed key not held back by the later add", waited < 2.0);
  ctrl_queue_done(q, l);
  free(l);

  /* adding a ready key while it is delayed makes it ready at once */
  ctrl_queue_add_after(q, "ns/d", 10.0);
  ctrl_queue_add(q, "ns/d");
  char *d = ctrl_queue_get(q, 0.5, NULL);
  CHECK_STR("direct add overrides a pending delay", d, "ns/d");
  ctrl_queue_done(q, d);
  free(d);

  /* urgent keys jump the queue; a key waiting normally moves ahead; no key twice */
  ctrl_queue_add(q, "ns/n1");
  ctrl_queue_add(q, "ns/n2");
  ctrl_queue_add(q, "ns/n3");
  ctrl_queue_add_urgent(q, "ns/u1");
  ctrl_queue_add_urgent(q, "ns/n3"); /* already waiting: moves ahead */
  CHECK_INT("urgent: 4 distinct keys ready", ctrl_queue_len(q), 4);
  const char *want_order[] = {"ns/u1", "ns/n3", "ns/n1", "ns/n2"};
  for (int i = 0; i < 4; i++) {
    char *k = ctrl_queue_get(q, 0, NULL);
    char name[64];
    snprintf(name, sizeof name, "urgent order position %d", i);
    CHECK_STR(name, k, want_order[i]);
    ctrl_queue_done(q, k);
    free(k);
  }
  int t2 = 0;
  char *dup = ctrl_queue_get(q, 0.02, &t2);
  CHECK("urgent: the moved key is not handed out twice", dup == NULL && t2 == 1);
  free(dup);
  CHECK_INT("urgent: queue empty", ctrl_queue_len(q), 0);
  /* an urgent add of a processing key waits for done() like any re-add */
  ctrl_queue_add(q, "ns/p");
  char *p = ctrl_queue_get(q, 0, NULL);
  ctrl_queue_add_urgent(q, "ns/p");
  int t3 = 0;
  char *none2 = ctrl_queue_get(q, 0.02, &t3);
  CHECK("urgent re-add of a processing key is not handed out", none2 == NULL && t3 == 1);
  free(none2);
  ctrl_queue_add(q, "ns/other");
  ctrl_queue_done(q, p);
  char *p2 = ctrl_queue_get(q, 0, NULL);
  CHECK_STR("urgent re-add replayed after done, ahead of normal keys", p2, "ns/p");
  char *o = ctrl_queue_get(q, 0, NULL);
  CHECK_STR("then the normal key", o, "ns/other");
  ctrl_queue_done(q, o);
  free(o);
  ctrl_queue_done(q, p2);
  free(p);
  free(p2);

  /* shutdown wakes getters */
  ctrl_queue_shutdown(q);
  char *s = ctrl_queue_get(q, -1, NULL);
  CHECK("get after shutdown returns NULL", s == NULL);
  ctrl_queue_free(q);

  /* multi-threaded: 4 workers, 2 adders; a key is never held by two workers */
  mt_ctx m;
  memset(&m, 0, sizeof m);
  pthread_mutex_init(&m.mu, NULL);
  m.q = ctrl_queue_new(0, 0);
  pthread_t w[4], ad[2];
  for (int i = 0; i < 4; i++) pthread_create(&w[i], NULL, worker, &m);
  for (int i = 0; i < 2; i++) pthread_create(&ad[i], NULL, adder, &m);
  for (int i = 0; i < 2; i++) pthread_join(ad[i], NULL);
  /* let the workers drain, then stop them */
  double end = ctrl_mono() + 5;
  while (ctrl_queue_len(m.q) > 0 && ctrl_mono() < end) sleep_s(0.01);
  sleep_s(0.05);
  ctrl_queue_shutdown(m.q);
  for (int i = 0; i < 4; i++) pthread_join(w[i], NULL);
  CHECK_INT("no key held by two workers at once", m.max_busy, 1);
  int all = 1;
  for (int i = 0; i < 8; i++) all &= m.handled[i] >= 1;
  CHECK("every key handled at least once", all);
  ctrl_queue_free(m.q);
  pthread_mutex_destroy(&m.mu);
  return check_done();
}
