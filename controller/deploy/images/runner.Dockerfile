# somhop runner image: the somhop CLI (`somhop run` executes FPGAJobs),
# the emulation OpenCL platform for sim nodes, and optionally XRT for F1.
# Build from the repository root:
#   docker build -f controller/deploy/images/runner.Dockerfile -t somhop-runner .
#   # F1 nodes: add XRT, its AWS plugin (downloaded from AMD/AWS first) and
#   # the .awsxclbin from scripts/create-afi, all placed in .../images/xrt/:
#   docker build --build-arg XRT_DEB=xrt_202410.2.17.319_22.04-amd64-xrt.deb \
#     --build-arg XRT_AWS_DEB=xrt_202410.2.17.319_22.04-amd64-aws.deb \
#     --build-arg AWSXCLBIN=somhop-hw.awsxclbin ...
# XRT's packages target Ubuntu/RHEL; installing them on Debian 12 has never
# been tried (no F1 exists any more). See docs/f1.md.
FROM debian:12 AS build
WORKDIR /src
COPY . .
RUN bash scripts/install-deps.sh && bash scripts/stage-image.sh runner /stage

FROM debian:12-slim
ARG XRT_DEB=""
ARG XRT_AWS_DEB=""
ARG AWSXCLBIN=""
COPY controller/deploy/images/xrt/ /tmp/xrt/
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
      libpng16-16 ocl-icd-libopencl1 \
      libcurl4 libcjson1 libyaml-0-2 \
 && if [ -n "$XRT_DEB" ]; then apt-get install -y --no-install-recommends "/tmp/xrt/$XRT_DEB"; fi \
 && if [ -n "$XRT_AWS_DEB" ]; then apt-get install -y --no-install-recommends "/tmp/xrt/$XRT_AWS_DEB"; fi \
 && if [ -n "$AWSXCLBIN" ]; then install -D -m 0644 "/tmp/xrt/$AWSXCLBIN" /usr/local/xclbin/somhop.hw.awsxclbin; fi \
 && rm -rf /var/lib/apt/lists/* /tmp/xrt
COPY --from=build /stage/ /
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/somhop"]
CMD ["run", "--help"]
