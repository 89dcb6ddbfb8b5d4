// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * erofs-mount: mount a lazily pulled EROFS image, unmount it, list lazy
 * mounts.  Everything is in liberofs (erofs/mount.h); this parses options.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "erofs/log.h"
#include "erofs/mount.h"
#include "erofs/util.h"

// clang-format off
static const struct option longopts[] = {
	{"source", required_argument, NULL, 's'},
	{"cache-dir", required_argument, NULL, 'C'},
	{"state-dir", required_argument, NULL, 'S'},
	{"backend", required_argument, NULL, 'B'},
	{"fetchd", required_argument, NULL, 'F'},
	{"prefetch", no_argument, NULL, 'P'},
	{"prefetch-list", required_argument, NULL, 'L'},
	{"platform", required_argument, NULL, 'p'},
	{"kernel-readahead", required_argument, NULL, 'R'},
	{"list", no_argument, NULL, 'l'},
	{"umount", no_argument, NULL, 'u'},
	{"verbose", no_argument, NULL, 'v'},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};
// clang-format on

static void usage(FILE *out)
{
	// clang-format off
	fprintf(out,
		"usage: erofs-mount [options] IMAGE MOUNTPOINT\n"
		"       erofs-mount -u MOUNTPOINT\n"
		"       erofs-mount --list\n"
		"\n"
		"Mount an EROFS image whose blobs are fetched on demand.  IMAGE is a\n"
		"manifest written by mkfs.erofs (--manifest), a bootstrap whose device\n"
		"tags are the blobs' SHA-256, or an OCI layout erofs-convert wrote:\n"
		"oci:DIR[:REF] or DIR.\n"
		"\n"
		"  --source DIR|URL     where the blobs are (repeatable; default: IMAGE's\n"
		"                       directory, an OCI layout's blobs/sha256)\n"
		"  --platform OS/ARCH[/VARIANT]  the image of an OCI index to mount\n"
		"                       (default: this machine's)\n"
		"  --cache-dir DIR      local cache (default %s); the fanotify\n"
		"                       backend needs it on ext4, xfs or btrfs\n"
		"  --backend B          auto (default), fanotify, cachefiles or full\n"
		"  --prefetch           fill everything in the background\n"
		"  --prefetch-list FILE fill the chunks of these files (one path a line,\n"
		"                       in order) first\n"
		"  --kernel-readahead SIZE  the kernel's read-ahead window on the\n"
		"                       mount (default 1M; 0: the kernel's own): one\n"
		"                       fanotify request per window of a blob\n"
		"  --fetchd PROGRAM     the erofs-fetchd to start (default: next to this\n"
		"                       program, else from PATH)\n"
		"  --state-dir DIR      where mounts are recorded (default %s)\n"
		"  -u, --umount         unmount MOUNTPOINT and release its daemon\n"
		"  -l, --list           lazy mounts: backend, source, bytes fetched\n"
		"  -v, --verbose        more messages; -q, --quiet: fewer\n",
		EROFS_MOUNT_DEFAULT_CACHE, EROFS_MOUNT_DEFAULT_STATE);
	// clang-format on
}

int main(int argc, char **argv)
{
	struct erofs_mount_opts o;
	struct erofs_log log;
	bool umount = false, list = false;
	int c, err;

	erofs_log_init(&log, "erofs-mount");
	log.level = EROFS_LOG_WARN;
	erofs_mount_opts_init(&o);
	while ((c = getopt_long(argc, argv, "ulvqh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (o.nr_sources == EROFS_MOUNT_MAX_SOURCES) {
				erofs_err(&log, -EINVAL, "at most %u sources",
					  EROFS_MOUNT_MAX_SOURCES);
				return 2;
			}
			o.sources[o.nr_sources++] = optarg;
			break;
		case 'C':
			o.cache_dir = optarg;
			break;
		case 'S':
			o.state_dir = optarg;
			break;
		case 'B':
			o.backend = optarg;
			break;
		case 'F':
			o.fetchd = optarg;
			break;
		case 'P':
			o.prefetch = true;
			break;
		case 'L':
			o.prefetch_list = optarg;
			break;
		case 'p':
			o.platform = optarg;
			break;
		case 'R':
			if (erofs_parse_size(optarg, &o.kernel_readahead) ||
			    o.kernel_readahead > (1ull << 30)) {
				erofs_err(&log, -EINVAL,
					  "--kernel-readahead %s: a size up to "
					  "1G",
					  optarg);
				return 2;
			}
			o.kernel_readahead_given = true;
			break;
		case 'l':
			list = true;
			break;
		case 'u':
			umount = true;
			break;
		case 'v':
			log.level++;
			break;
		case 'q':
			log.level = EROFS_LOG_ERR;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("erofs-mount (erofs-ondemand) 0.1.0\n");
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (list) {
		if (optind != argc) {
			usage(stderr);
			return 2;
		}
		return erofs_mount_list(stdout, o.state_dir, &log) ? 1 : 0;
	}
	if (umount) {
		if (optind + 1 != argc) {
			usage(stderr);
			return 2;
		}
		return erofs_umount(argv[optind], o.state_dir, &log) ? 1 : 0;
	}
	if (optind + 2 != argc) {
		usage(stderr);
		return 2;
	}
	o.image = argv[optind];
	o.mountpoint = argv[optind + 1];
	err = erofs_mount(&o, &log);
	return err ? 1 : 0;
}
