# The Pod sandbox ("pause") image of the test bed: one static binary (images/pause.c, built by
# scripts/kube/images.sh with gcc -static into the build context).
FROM scratch
COPY pause /pause
USER 65535:65535
ENTRYPOINT ["/pause"]
