/* Unit tests of the watch-stream line splitter (controller/ctrl_util.c): a partial
 * trailing line is kept between chunks, CRLF handled, empty lines skipped, byte-by-byte
 * feeding gives the same lines, over-long lines rejected. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ctrl_util.h"

typedef struct {
  char lines[16][128];
  int n;
} sink;

static int collect(char *line, size_t len, void *arg) {
  sink *s = arg;
  if (s->n < 16) {
    snprintf(s->lines[s->n], sizeof s->lines[0], "%.*s", (int)len, line);
    s->n++;
  }
  return 0;
}

static int stop_at_two(char *line, size_t len, void *arg) {
  (void)line;
  (void)len;
  sink *s = arg;
  return ++s->n == 2 ? 7 : 0;
}

int main(void) {
  const char *stream = "{\"type\":\"ADDED\",\"object\":{\"a\":1}}\n{\"type\":\"MODI"
                       "FIED\",\"object\":{}}\r\n\n{\"type\":\"BOOKMARK\"}\n{\"partial\":";
  ctrl_linebuf lb = {0};
  sink s = {0};
  /* feed in chunks that split lines at awkward places */
  size_t n = strlen(stream), cuts[] = {5, 31, 33, 50, 51, 60, n};
  size_t prev = 0;
  int rc = 0;
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
    size_t c = cuts[i] > n ? n : cuts[i];
    rc |= ctrl_linebuf_feed(&lb, stream + prev, c - prev, collect, &s);
    prev = c;
  }
  CHECK_INT("feed rc", rc, 0);
  CHECK_INT("three complete lines", s.n, 3);
  CHECK_STR("line 1", s.lines[0], "{\"type\":\"ADDED\",\"object\":{\"a\":1}}");
  CHECK_STR("line 2 joined across chunks, CR stripped", s.lines[1], "{\"type\":\"MODIFIED\",\"object\":{}}");
  CHECK_STR("line 3 after an empty line", s.lines[2], "{\"type\":\"BOOKMARK\"}");
  CHECK_INT("partial trailing line kept", lb.len, strlen("{\"partial\":"));
  ctrl_linebuf_feed(&lb, "true}\n", 6, collect, &s);
  CHECK_STR("partial line completed by the next chunk", s.lines[3], "{\"partial\":true}");

  /* byte by byte */
  sink s2 = {0};
  ctrl_linebuf lb2 = {0};
  for (size_t i = 0; i < n; i++) ctrl_linebuf_feed(&lb2, stream + i, 1, collect, &s2);
  CHECK_INT("byte-by-byte: same line count", s2.n, 3);
  CHECK_STR("byte-by-byte: same line 2", s2.lines[1], s.lines[1]);

  /* callback stop value propagates */
  sink s3 = {0};
  ctrl_linebuf lb3 = {0};
  int r3 = ctrl_linebuf_feed(&lb3, "a\nb\nc\n", 6, stop_at_two, &s3);
  CHECK_INT("callback's stop value returned", r3, 7);
  CHECK_INT("stopped after two lines", s3.n, 2);

  /* limit */
  ctrl_linebuf lb4 = {0};
  lb4.max_line = 8;
  sink s4 = {0};
  CHECK_INT("line over max_line rejected", ctrl_linebuf_feed(&lb4, "0123456789\n", 11, collect, &s4), -1);
  ctrl_linebuf_reset(&lb4);
  CHECK_INT("after reset a short line passes", ctrl_linebuf_feed(&lb4, "ok\n", 3, collect, &s4), 0);
  CHECK_STR("short line content", s4.lines[0], "ok");

  ctrl_linebuf_free(&lb);
  ctrl_linebuf_free(&lb2);
  ctrl_linebuf_free(&lb3);
  ctrl_linebuf_free(&lb4);
  return check_done();
}
