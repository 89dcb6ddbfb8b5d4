// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mkfs.erofs: a directory or an archive (tarball) becomes an EROFS
 * bootstrap, optionally with a chunk-deduplicated blob device.  Option names
 * follow erofs-utils.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "config.h"
#include "erofs/build.h"
#include "erofs/util.h"

enum {
	OPT_ALL_ROOT = 256,
	OPT_FORCE_UID,
	OPT_FORCE_GID,
	OPT_EXCLUDE_PATH,
	OPT_EXCLUDE_REGEX,
	OPT_CHUNKSIZE,
	OPT_BLOBDEV,
	OPT_MANIFEST,
	OPT_MKFS_TIME,
	OPT_QUIET,
	OPT_HELP,
	OPT_VERSION,
	OPT_FSID,
	OPT_DOMAIN_ID,
};

static const struct option long_opts[] = {
	{ "all-root", no_argument, NULL, OPT_ALL_ROOT },
	{ "force-uid", required_argument, NULL, OPT_FORCE_UID },
	{ "force-gid", required_argument, NULL, OPT_FORCE_GID },
	{ "exclude-path", required_argument, NULL, OPT_EXCLUDE_PATH },
	{ "exclude-regex", required_argument, NULL, OPT_EXCLUDE_REGEX },
	{ "chunksize", required_argument, NULL, OPT_CHUNKSIZE },
	{ "blobdev", required_argument, NULL, OPT_BLOBDEV },
	{ "manifest", required_argument, NULL, OPT_MANIFEST },
	{ "mkfs-time", no_argument, NULL, OPT_MKFS_TIME },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "fsid", required_argument, NULL, OPT_FSID },
	{ "domain-id", required_argument, NULL, OPT_DOMAIN_ID },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *out)
{
	fputs("Usage: mkfs.erofs [OPTIONS] DEST SOURCE\n"
	      "Build an EROFS image (bootstrap) from SOURCE, a directory or an\n"
	      "archive (tar, optionally compressed, or another format libarchive\n"
	      "reads; \"-\" reads it from stdin); with --blobdev the file data\n"
	      "goes to a chunk-deduplicated blob device.\n\n"
	      "  -b SIZE               block size (default 4096)\n"
	      "  -T SECONDS            timestamp of the image and of every file\n"
	      "      --mkfs-time       apply -T / SOURCE_DATE_EPOCH to the build time only\n"
	      "  -U UUID|clear|random  filesystem UUID (default random)\n"
	      "  -L LABEL              volume label (up to 15 bytes)\n"
	      "  -x N                  share xattrs found on more than N inodes\n"
	      "                        (default 1); N < 0 drops all xattrs\n"
	      "  -E OPT[,OPT]          extended options: xattr-name-filter\n"
	      "  -d LEVEL              message level 0..3 (default 1)\n"
	      "      --all-root        make every file owned by root\n"
	      "      --force-uid=UID   set every file's owner\n"
	      "      --force-gid=GID   set every file's group\n"
	      "      --exclude-path=P  leave out P (relative to SOURCE's root)\n"
	      "      --exclude-regex=RE  leave out paths matching RE\n"
	      "      --chunksize=SIZE  chunk-based files (power of two >= block size)\n"
	      "      --blobdev=FILE    put all chunk data into the blob FILE\n"
	      "      --manifest=FILE   write a JSON manifest of the outputs\n"
	      "      --fsid=NAME       add the cachefiles cookie table for fsid NAME\n"
	      "      --domain-id=NAME  ... in the shared domain NAME\n"
	      "      --quiet           print nothing but errors\n"
	      "      --help            show this help\n"
	      "      --version         show the version\n"
	      "Environment: SOURCE_DATE_EPOCH sets the build time and clamps\n"
	      "file times for reproducible builds.\n",
	      out);
}

static int bad(const struct erofs_log *log, const char *opt, const char *v)
{
	erofs_err(log, 0, "invalid value \"%s\" for %s", v, opt);
	return 2;
}

static void print_summary(const struct erofs_manifest *m, const char *dest)
{
	const struct erofs_manifest_counts *c = &m->counts;

	printf("bootstrap %s: %" PRIu64 " bytes, sha256 %s\n", dest,
	       m->bootstrap_size, m->bootstrap_sha256);
	for (unsigned int i = 0; i < m->nr_blobs; i++)
		printf("blob %s: %" PRIu64 " bytes, tag %s\n", m->blobs[i].path,
		       m->blobs[i].size, m->blobs[i].tag);
	printf("%" PRIu64 " inodes, %" PRIu64 " regular files, %" PRIu64
	       " chunks (%" PRIu64 " stored, %" PRIu64 " all-zero)\n",
	       c->inodes, c->regular_files, c->chunks, c->unique_chunks,
	       c->zero_chunks);
	printf("%" PRIu64 " bytes in, %" PRIu64 " stored, %" PRIu64
	       " deduplicated\n",
	       c->bytes_in, c->bytes_stored, c->bytes_deduplicated);
}

/* temporary outputs removed when a signal ends the build */
static struct erofs_tmpnames tmpnames;

static void on_fatal_signal(int sig)
{
	erofs_tmpnames_unlink(&tmpnames);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void catch_fatal_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa = { .sa_handler = on_fatal_signal };

	sigemptyset(&sa.sa_mask);
	for (unsigned int i = 0; i < sizeof(sigs) / sizeof(*sigs); i++)
		sigaddset(&sa.sa_mask, sigs[i]);
	for (unsigned int i = 0; i < sizeof(sigs) / sizeof(*sigs); i++)
		sigaction(sigs[i], &sa, NULL);
}

int main(int argc, char **argv)
{
	struct erofs_build_opts o;
	struct erofs_build_result res;
	struct erofs_log log;
	bool quiet = false;
	const char *env;
	struct rlimit rl;
	uint64_t v;
	int c, err;

	erofs_log_init(&log, "mkfs.erofs");
	erofs_build_opts_init(&o);
	while ((c = getopt_long(argc, argv, "b:T:U:L:x:E:d:", long_opts,
				NULL)) != -1) {
		switch (c) {
		case 'b':
			if (erofs_parse_size(optarg, &v) || !erofs_is_pow2(v) ||
			    v < 512 || v > 65536)
				return bad(&log, "-b", optarg);
			o.blkszbits = erofs_ilog2(v);
			break;
		case 'T':
			if (erofs_parse_u64(optarg, INT64_MAX, &v))
				return bad(&log, "-T", optarg);
			o.fixed_time = true;
			o.timestamp = v;
			break;
		case 'U':
			if (!strcmp(optarg, "clear")) {
				o.uuid_mode = EROFS_UUID_CLEAR;
			} else if (!strcmp(optarg, "random")) {
				o.uuid_mode = EROFS_UUID_RANDOM;
			} else if (!erofs_uuid_parse(optarg, o.uuid)) {
				o.uuid_mode = EROFS_UUID_GIVEN;
			} else {
				return bad(&log, "-U", optarg);
			}
			break;
		case 'L':
			if (strlen(optarg) >= sizeof(o.label)) {
				erofs_err(&log, 0,
					  "label \"%s\" is longer than 15 bytes",
					  optarg);
				return 2;
			}
			strcpy(o.label, optarg);
			break;
		case 'x': {
			char *end;
			long x = strtol(optarg, &end, 10);

			if (*end || !*optarg || x > INT32_MAX || x < -1000)
				return bad(&log, "-x", optarg);
			o.xattr_tolerance = x < 0 ? -1 : (int)x;
			break;
		}
		case 'E': {
			char *opts = strdup(optarg), *save = NULL;

			for (char *t = strtok_r(opts, ",", &save); t;
			     t = strtok_r(NULL, ",", &save)) {
				if (!strcmp(t, "xattr-name-filter")) {
					o.xattr_filter = true;
				} else if (!strcmp(t, "^xattr-name-filter")) {
					o.xattr_filter = false;
				} else {
					erofs_err(&log, 0,
						  "unknown extended option \"%s\"",
						  t);
					free(opts);
					return 2;
				}
			}
			free(opts);
			break;
		}
		case 'd':
			if (erofs_parse_u64(optarg, 9, &v))
				return bad(&log, "-d", optarg);
			log.level = v > EROFS_LOG_DEBUG ? EROFS_LOG_DEBUG : v;
			break;
		case OPT_ALL_ROOT:
			o.all_root = true;
			break;
		case OPT_FORCE_UID:
			if (erofs_parse_u64(optarg, UINT32_MAX, &v))
				return bad(&log, "--force-uid", optarg);
			o.force_uid = v;
			break;
		case OPT_FORCE_GID:
			if (erofs_parse_u64(optarg, UINT32_MAX, &v))
				return bad(&log, "--force-gid", optarg);
			o.force_gid = v;
			break;
		case OPT_EXCLUDE_PATH:
			if (erofs_exclude_add_path(&o.exclude, optarg))
				return 1;
			break;
		case OPT_EXCLUDE_REGEX:
			if (erofs_exclude_add_regex(&o.exclude, optarg, &log))
				return 2;
			break;
		case OPT_CHUNKSIZE:
			if (erofs_parse_size(optarg, &v) || !v)
				return bad(&log, "--chunksize", optarg);
			o.chunksize = v;
			break;
		case OPT_BLOBDEV:
			o.blobdev = optarg;
			break;
		case OPT_MANIFEST:
			o.manifest = optarg;
			break;
		case OPT_MKFS_TIME:
			o.mkfs_time_only = true;
			break;
		case OPT_QUIET:
			quiet = true;
			break;
		case OPT_FSID:
			o.fsid = optarg;
			break;
		case OPT_DOMAIN_ID:
			o.domain_id = optarg;
			break;
		case OPT_HELP:
			usage(stdout);
			return 0;
		case OPT_VERSION:
			printf("mkfs.erofs (erofs-ondemand) %s\n",
			       PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		return 2;
	}
	env = getenv("SOURCE_DATE_EPOCH");
	if (env && *env && !o.fixed_time) {
		if (erofs_parse_u64(env, INT64_MAX, &v))
			return bad(&log, "SOURCE_DATE_EPOCH", env);
		o.have_epoch = true;
		o.epoch = v;
	}
	if (quiet)
		log.level = EROFS_LOG_ERR;
	log.timestamps = log.level >= EROFS_LOG_INFO;
	/* deep trees keep one directory fd open per level */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	catch_fatal_signals();
	o.tmpnames = &tmpnames;
	err = erofs_build(argv[optind], argv[optind + 1], &o, &res, &log);
	erofs_exclude_free(&o.exclude);
	if (err)
		return 1;
	if (!quiet)
		print_summary(&res.manifest, argv[optind]);
	erofs_build_result_free(&res);
	return 0;
}
