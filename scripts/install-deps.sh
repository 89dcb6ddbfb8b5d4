#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs what erofs-ondemand needs to build and test on Debian 12.
# Run as root.  Does nothing (quickly) when everything is present.
set -eu

PKGS="build-essential autoconf automake libtool pkg-config
libarchive-dev libssl-dev libxxhash-dev liblz4-dev zlib1g-dev libjson-c-dev
libcmocka-dev libcurl4-openssl-dev
erofs-utils attr acl python3 jq util-linux e2fsprogs
clang libclang-rt-14-dev
qemu-system-x86 busybox-static linux-source-6.12 cpio xz-utils bc flex bison
libelf-dev time zstd bzip2 xz-utils
libisal-dev libdeflate-dev libzstd-dev uuid-dev liblzma-dev
umoci skopeo nginx-light docker-registry libarchive-tools lz4 gzip
linux-source-6.1 e2fsprogs"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
if [ -n "$missing" ]; then
	echo "install-deps: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
fi
