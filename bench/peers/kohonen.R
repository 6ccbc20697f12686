# kohonen.R — the R kohonen package (Debian r-cran-kohonen) as a peer of
# `make bench`, called by bench/peers/peers.py:
#   Rscript --vanilla kohonen.R bmu|train DIR N D ROWS COLS EPOCHS REPEAT OUT
# Reads DIR/data.f32 and DIR/init.f32 (raw little-endian float32, row major),
# times only the library call (median of REPEAT), writes the BMUs (int32,
# 1-based units) or the trained codebook (float64, row major) to OUT and
# prints one JSON line {"median": s, "times": [...]}.
suppressPackageStartupMessages(library(kohonen))
a <- commandArgs(trailingOnly = TRUE)
if (length(a) != 9) stop("usage: kohonen.R bmu|train DIR N D ROWS COLS EPOCHS REPEAT OUT")
what <- a[1]; dir <- a[2]
n <- as.integer(a[3]); d <- as.integer(a[4]); rows <- as.integer(a[5]); cols <- as.integer(a[6])
epochs <- as.integer(a[7]); rep <- as.integer(a[8]); out <- a[9]
rd <- function(f, k) {
  con <- file(file.path(dir, f), "rb"); on.exit(close(con))
  v <- readBin(con, "numeric", n = k * d, size = 4, endian = "little")
  if (length(v) != k * d) stop(paste(f, ": short file"))
  matrix(v, nrow = k, ncol = d, byrow = TRUE)
}
x <- rd("data.f32", n)
init <- rd("init.f32", rows * cols)
# somgrid units: x (columns) fastest, so unit k-1 = row * cols + col, as ours
g <- somgrid(xdim = cols, ydim = rows, topo = "rectangular", neighbourhood.fct = "gaussian")
times <- numeric(0)
if (what == "bmu") {
  model <- som(x[1:min(n, 10), , drop = FALSE], grid = g, rlen = 1, init = init)
  model$codes[[1]] <- init
  for (i in seq_len(rep)) {
    t0 <- proc.time()[["elapsed"]]
    m <- map(model, x)
    times <- c(times, proc.time()[["elapsed"]] - t0)
  }
  writeBin(as.integer(m$unit.classif), out, size = 4, endian = "little")
} else if (what == "train") {
  for (i in seq_len(rep)) {
    t0 <- proc.time()[["elapsed"]]
    model <- som(x, grid = g, rlen = epochs, mode = "pbatch", init = init, radius = c(16, 1))
    times <- c(times, proc.time()[["elapsed"]] - t0)
  }
  writeBin(as.vector(t(model$codes[[1]])), out, size = 8, endian = "little")
} else stop("bmu or train")
cat(sprintf('{"median": %.6f, "times": [%s]}\n', median(times), paste(sprintf("%.6f", times), collapse = ", ")))
