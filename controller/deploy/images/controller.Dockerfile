# somhop-controller image: non-root, minimal runtime.
# Build from the repository root:
#   docker build -f controller/deploy/images/controller.Dockerfile -t somhop-controller .
# The build stage runs scripts/stage-image.sh, which tests/f1/test_images.sh
# also runs and checks (no Docker engine runs where somhop is developed).
FROM debian:12 AS build
WORKDIR /src
COPY . .
RUN bash scripts/install-deps.sh && bash scripts/stage-image.sh controller /stage

FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
      libcurl4 libcjson1 libyaml-0-2 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /stage/ /
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["/usr/local/bin/somhop-controller"]
