# Only where no registry is reachable (the test machine): a Debian bookworm base image from a root file system
# made by `debootstrap --variant=minbase bookworm` (scripts/kube/images.sh); the other Dockerfiles take it as
# --build-arg BASE=localhost/debian-base:bookworm-<key> instead of docker.io/library/debian:bookworm-slim.
FROM scratch
ADD rootfs.tar /
CMD ["bash"]
