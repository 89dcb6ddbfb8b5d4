// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mkfs.erofs: a directory or an archive (tarball) becomes an EROFS
 * bootstrap, optionally with a chunk-deduplicated blob device.  Option names
 * follow erofs-utils.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "erofs/build.h"
#include "erofs/options.h"
#include "erofs/util.h"
#include "progs/signals.h"

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
	OPT_ALL_TIME,
	OPT_QUIET,
	OPT_HELP,
	OPT_VERSION,
	OPT_FSID,
	OPT_DOMAIN_ID,
	OPT_TAR,
	OPT_AUFS,
	OPT_OVLFS_STRIP,
	OPT_UNGZIP,
	OPT_UNXZ,
	OPT_IGNORE_MTIME,
	OPT_PRESERVE_MTIME,
	OPT_SORT,
	OPT_HARD_DEREFERENCE,
	OPT_UID_OFFSET,
	OPT_GID_OFFSET,
	OPT_XATTR_PREFIX,
	OPT_CLEAN,
	OPT_UNSUPPORTED, /* an erofs-utils option we do not implement */
};

static const struct option long_opts[] = {
    {"all-root", no_argument, NULL, OPT_ALL_ROOT},
    {"force-uid", required_argument, NULL, OPT_FORCE_UID},
    {"force-gid", required_argument, NULL, OPT_FORCE_GID},
    {"exclude-path", required_argument, NULL, OPT_EXCLUDE_PATH},
    {"exclude-regex", required_argument, NULL, OPT_EXCLUDE_REGEX},
    {"chunksize", required_argument, NULL, OPT_CHUNKSIZE},
    {"blobdev", required_argument, NULL, OPT_BLOBDEV},
    {"manifest", required_argument, NULL, OPT_MANIFEST},
    {"mkfs-time", no_argument, NULL, OPT_MKFS_TIME},
    {"all-time", no_argument, NULL, OPT_ALL_TIME},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {"fsid", required_argument, NULL, OPT_FSID},
    {"domain-id", required_argument, NULL, OPT_DOMAIN_ID},
    {"tar", optional_argument, NULL, OPT_TAR},
    {"aufs", no_argument, NULL, OPT_AUFS},
    {"ovlfs-strip", optional_argument, NULL, OPT_OVLFS_STRIP},
    {"ungzip", optional_argument, NULL, OPT_UNGZIP},
    {"gzip", no_argument, NULL, OPT_UNGZIP},
    {"unxz", optional_argument, NULL, OPT_UNXZ},
    {"unlzma", optional_argument, NULL, OPT_UNXZ},
    {"ignore-mtime", no_argument, NULL, OPT_IGNORE_MTIME},
    {"preserve-mtime", no_argument, NULL, OPT_PRESERVE_MTIME},
    {"sort", required_argument, NULL, OPT_SORT},
    {"hard-dereference", no_argument, NULL, OPT_HARD_DEREFERENCE},
    {"uid-offset", required_argument, NULL, OPT_UID_OFFSET},
    {"gid-offset", required_argument, NULL, OPT_GID_OFFSET},
    {"xattr-prefix", required_argument, NULL, OPT_XATTR_PREFIX},
    {"clean", optional_argument, NULL, OPT_CLEAN},
    /* erofs-utils 1.9.3 options this mkfs.erofs does not implement */
    {"async-queue-limit", required_argument, NULL, OPT_UNSUPPORTED},
    {"compress-hints", required_argument, NULL, OPT_UNSUPPORTED},
    {"dsunit", required_argument, NULL, OPT_UNSUPPORTED},
    {"file-contexts", required_argument, NULL, OPT_UNSUPPORTED},
    {"fs-config-file", required_argument, NULL, OPT_UNSUPPORTED},
    {"fsalignblks", required_argument, NULL, OPT_UNSUPPORTED},
    {"gzinfo", optional_argument, NULL, OPT_UNSUPPORTED},
    {"incremental", optional_argument, NULL, OPT_UNSUPPORTED},
    {"max-extent-bytes", required_argument, NULL, OPT_UNSUPPORTED},
    {"mount-point", required_argument, NULL, OPT_UNSUPPORTED},
    {"MZ", optional_argument, NULL, OPT_UNSUPPORTED},
    {"oci", optional_argument, NULL, OPT_UNSUPPORTED},
    {"offset", required_argument, NULL, OPT_UNSUPPORTED},
    {"product-out", required_argument, NULL, OPT_UNSUPPORTED},
    {"random-algorithms", no_argument, NULL, OPT_UNSUPPORTED},
    {"random-pclusterblks", no_argument, NULL, OPT_UNSUPPORTED},
    {"root-xattr-isize", required_argument, NULL, OPT_UNSUPPORTED},
    {"s3", required_argument, NULL, OPT_UNSUPPORTED},
    {"vmdk-desc", required_argument, NULL, OPT_UNSUPPORTED},
    {"workers", required_argument, NULL, OPT_UNSUPPORTED},
    {"xattr-inode-digest", optional_argument, NULL, OPT_UNSUPPORTED},
    {"zD", optional_argument, NULL, OPT_UNSUPPORTED},
    {"zfeature-bits", required_argument, NULL, OPT_UNSUPPORTED},
    {NULL, 0, NULL, 0},
};

/*
 * The notation follows erofs-utils' --help where callers probe it:
 * containerd looks for "--tar=", test harnesses for "-b#" and
 * "--xattr-prefix".
 */
static void usage(FILE *out)
{
	fputs(
	    "Usage: mkfs.erofs [OPTIONS] DEST [SOURCE]\n"
	    "Build an EROFS image (bootstrap) DEST from SOURCE, a directory "
	    "or\n"
	    "an archive (tar, optionally compressed, or another format\n"
	    "libarchive reads; \"-\" or no SOURCE with --tar reads it from\n"
	    "stdin); with --blobdev the file data goes to a\n"
	    "chunk-deduplicated blob device.\n\n"
	    " -V, --version          show the version\n"
	    " -h, --help             show this help\n"
	    " -b#                    block size # (512 to the page size; "
	    "default 4096)\n"
	    " -d<0-9>                message level: 0 errors ... 3+ debug "
	    "(default 1)\n"
	    " -x#                    share xattrs found on more than # inodes\n"
	    "                        (default 1); # < 0 drops all xattrs\n"
	    " -EX[,...]              extended options X:\n"
	    "                          noinline_data (= ^inline_data): no "
	    "inline\n"
	    "                            tails for regular files\n"
	    "                          force-inode-compact, "
	    "force-inode-extended\n"
	    "                          force-inode-blockmap (4-byte chunk "
	    "block map)\n"
	    "                          force-chunk-indexes (8-byte chunk "
	    "indexes)\n"
	    "                          nosbcrc: no superblock checksum\n"
	    "                          [^]xattr-name-filter: xattr name bloom "
	    "filter\n"
	    "                          plain-xattr-prefixes (always the case "
	    "here)\n"
	    " -L volume-label        volume label (at most 15 bytes)\n"
	    " -T#                    UNIX timestamp # as build time (default 0)\n"
	    "    --all-time          ... also applied to every file (default)\n"
	    "    --mkfs-time         ... applied to the build time only\n"
	    " -UX                    filesystem UUID X, or clear, or random "
	    "(default:\n"
	    "                          derived from the content)\n"
	    " --all-root             make every file owned by root\n"
	    " --force-uid=#          set every file's uid to #\n"
	    " --force-gid=#          set every file's gid to #\n"
	    " --uid-offset=#         add # to every file's uid (after "
	    "--force-uid)\n"
	    " --gid-offset=#         add # to every file's gid (after "
	    "--force-gid)\n"
	    " --ignore-mtime         use compact inodes even where the mtime "
	    "differs\n"
	    "                        from the build time (the build time is "
	    "shown)\n"
	    " --preserve-mtime       keep every mtime (default)\n"
	    " --hard-dereference     hard links become separate inodes\n"
	    " --exclude-path=X       leave out X (relative to SOURCE's root)\n"
	    " --exclude-regex=X      leave out paths matching the regular "
	    "expression X\n"
	    " --chunksize=#          chunk-based files with #-byte chunks\n"
	    " --blobdev=X            put all chunk data into the blob device "
	    "X\n"
	    " --manifest=X           write a JSON manifest of the outputs to "
	    "X\n"
	    " --fsid=X               add the cachefiles cookie table for fsid "
	    "X\n"
	    " --domain-id=X          ... in the shared domain X\n"
	    " --tar=X                SOURCE is a tarball (or stdin if "
	    "none/\"-\"):\n"
	    "                        (X = f|i|headerball; f=full data "
	    "(default),\n"
	    "                         i=index only, the tar is appended to "
	    "DEST,\n"
	    "                         headerball=tar headers without file "
	    "bodies:\n"
	    "                         regular files read as zeros, as "
	    "erofs-utils)\n"
	    " --ungzip[=X], --unxz[=X]  accepted: compression is detected "
	    "anyway;\n"
	    "                        X also gets the decompressed tar stream\n"
	    " --aufs                 turn aufs whiteouts (.wh.*) into "
	    "overlayfs ones\n"
	    " --ovlfs-strip=<0,1>    drop overlayfs whiteouts and "
	    "trusted.overlay.*\n"
	    " --sort=<path,none>     data sorting order for tarballs as input "
	    "(default:\n"
	    "                        none, archive order; erofs-utils: path);"
	    " path lays\n"
	    "                        the data out in directory-tree order, "
	    "as a directory\n"
	    "                        source always is, at the cost of "
	    "copying it once more\n"
	    " --xattr-prefix=X       long xattr name prefix X (e.g. "
	    "trusted.overlay.)\n"
	    "                        to store names sharing it compactly; "
	    "repeatable\n"
	    " --quiet                print nothing but errors\n"
	    "Unsupported erofs-utils options (compression -z/-C/-m, --workers, "
	    "...)\n"
	    "are refused by name.\n"
	    "Environment: SOURCE_DATE_EPOCH sets the build time and clamps\n"
	    "file times for reproducible builds.\n",
	    out);
}

static int unsupported(const struct erofs_log *log, const char *opt,
		       const char *why)
{
	erofs_err(log, 0, "option %s is not supported by this mkfs.erofs%s%s",
		  opt, why ? ": " : "", why ? why : "");
	return EROFS_EXIT_USAGE;
}

/* -E: comma-separated, "^" clears; none of ours takes a value */
static int parse_extended(const struct erofs_log *log, const char *arg,
			  struct erofs_build_opts *o)
{
	static const char *const compr[] = {
	    "48bit",	  "all-fragments", "dedupe",	      "dot-omitted",
	    "fragdedupe", "fragments",	   "legacy-compress", "ztailpacking",
	};
	char *opts = strdup(arg), *save = NULL;
	int ret = 0;

	if (!opts)
		return 1;
	for (char *t = strtok_r(opts, ",", &save); t && !ret;
	     t = strtok_r(NULL, ",", &save)) {
		bool clear = *t == '^';
		char *k = clear ? t + 1 : t;
		size_t klen = strcspn(k, "=");

		if (k[klen]) {
			erofs_err(log, 0,
				  "extended option \"%s\" takes no value", t);
			ret = EROFS_EXIT_USAGE;
			break;
		}
		if (!strcmp(k, "noinline_data")) {
			o->no_inline_data = !clear;
		} else if (!strcmp(k, "inline_data")) {
			o->no_inline_data = clear;
		} else if (!strcmp(k, "force-inode-compact") && !clear) {
			o->inode_form = EROFS_FORM_COMPACT;
			o->ignore_mtime = true;
		} else if (!strcmp(k, "force-inode-extended") && !clear) {
			o->inode_form = EROFS_FORM_EXTENDED;
		} else if (!strcmp(k, "force-inode-blockmap") && !clear) {
			o->force_blockmap = true;
			o->force_chunk_indexes = false;
		} else if (!strcmp(k, "force-chunk-indexes") && !clear) {
			o->force_chunk_indexes = true;
			o->force_blockmap = false;
		} else if (!strcmp(k, "nosbcrc") && !clear) {
			o->no_sbcrc = true;
		} else if (!strcmp(k, "xattr-name-filter")) {
			o->xattr_filter = !clear;
		} else if (!strcmp(k, "plain-xattr-prefixes") && !clear) {
			/* prefixes are always stored plainly here */
		} else {
			bool known = false;

			for (size_t i = 0; i < sizeof(compr) / sizeof(*compr);
			     i++)
				known |= !strcmp(k, compr[i]);
			if (known)
				erofs_err(
				    log, 0,
				    "extended option \"%s\" is not supported "
				    "by this mkfs.erofs (no compression)",
				    t);
			else
				erofs_err(log, 0,
					  "unknown extended option \"%s\"", t);
			ret = EROFS_EXIT_USAGE;
		}
	}
	free(opts);
	return ret;
}

/* --uid-offset/--gid-offset: a signed id offset (base 10 or 0x hex) */
static int parse_offset(const char *s, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 0);
	if (errno || end == s || *end || v > (long long)UINT32_MAX ||
	    v < -(long long)UINT32_MAX)
		return -EINVAL;
	*out = v;
	return 0;
}

/* a progress line on a terminal: entries, bytes, rate; \r-updated */
struct progress {
	struct timespec start;
	double last;
	bool shown;
};

static double seconds_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) + (now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void show_progress(void *arg, const struct erofs_build_progress *p)
{
	struct progress *st = arg;
	double t = seconds_since(&st->start);
	double mib = p->bytes_in / 1048576.0;

	/* at most a few updates a second; a short build shows one or two */
	if (!p->done && st->shown && t - st->last < 0.25)
		return;
	if (p->done && !st->shown)
		return;
	st->last = t;
	st->shown = true;
	if (p->relay_total && !p->done) {
		fprintf(stderr,
			"\rmkfs.erofs: %" PRIu64 " entries, laying data out in "
			"path order: %.1f of %.1f MiB\033[K",
			p->entries, p->relaid / 1048576.0,
			p->relay_total / 1048576.0);
		fflush(stderr);
		return;
	}
	fprintf(stderr,
		"\rmkfs.erofs: %" PRIu64
		" entries, %.1f MiB read, %.1f MiB stored, %.1f MiB/s\033[K%s",
		p->entries, mib, p->bytes_stored / 1048576.0,
		t > 0 ? mib / t : 0.0, p->done ? "\n" : "");
	fflush(stderr);
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

int main(int argc, char **argv)
{
	struct erofs_build_opts o;
	struct erofs_build_result res;
	struct erofs_log log;
	struct progress prog = {0};
	bool quiet = false, bsize_given = false;
	const char *dest, *src;
	char **prefixes = NULL;
	struct rlimit rl;
	struct stat st;
	long pagesz = sysconf(_SC_PAGESIZE);
	uint64_t v;
	int c, idx, err, ret = EROFS_EXIT_USAGE;

	erofs_log_init(&log, "mkfs.erofs");
	erofs_build_opts_init(&o);
	if (pagesz < 4096)
		pagesz = 4096;
	while ((c = getopt_long(argc, argv, "b:T:U:L:x:E:d:C:m:z:hV", long_opts,
				&idx)) != -1) {
		switch (c) {
		case 'b':
			if (erofs_opt_pow2(optarg, 512, pagesz, &v)) {
				erofs_err(
				    &log, 0,
				    "invalid block size \"%s\": a power of two "
				    "from 512 to the page size (%ld)",
				    optarg, pagesz);
				goto out;
			}
			o.blkszbits = erofs_ilog2(v);
			bsize_given = true;
			break;
		case 'T':
			if (erofs_parse_u64(optarg, INT64_MAX, &v)) {
				ret = erofs_opt_bad(&log, "-T", optarg);
				goto out;
			}
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
				ret = erofs_opt_bad(&log, "-U", optarg);
				goto out;
			}
			break;
		case 'L':
			if (strlen(optarg) >= sizeof(o.label)) {
				erofs_err(
				    &log, 0,
				    "label \"%s\" is longer than 15 bytes",
				    optarg);
				goto out;
			}
			strcpy(o.label, optarg);
			break;
		case 'x': {
			char *end;
			long x = strtol(optarg, &end, 10);

			if (*end || !*optarg || x > INT32_MAX || x < -1000) {
				ret = erofs_opt_bad(&log, "-x", optarg);
				goto out;
			}
			o.xattr_tolerance = x < 0 ? -1 : (int)x;
			break;
		}
		case 'E':
			ret = parse_extended(&log, optarg, &o);
			if (ret)
				goto out;
			ret = EROFS_EXIT_USAGE;
			break;
		case 'd':
			if (erofs_opt_log_level(&log, "-d", optarg, 9))
				goto out;
			break;
		case 'C':
		case 'm':
		case 'z': {
			char name[3] = {'-', (char)c, 0};

			ret = unsupported(&log, name,
					  "images are never compressed");
			goto out;
		}
		case OPT_ALL_ROOT:
			o.all_root = true;
			break;
		case OPT_FORCE_UID:
			if (erofs_parse_u64(optarg, UINT32_MAX, &v)) {
				ret =
				    erofs_opt_bad(&log, "--force-uid", optarg);
				goto out;
			}
			o.force_uid = v;
			break;
		case OPT_FORCE_GID:
			if (erofs_parse_u64(optarg, UINT32_MAX, &v)) {
				ret =
				    erofs_opt_bad(&log, "--force-gid", optarg);
				goto out;
			}
			o.force_gid = v;
			break;
		case OPT_UID_OFFSET:
			if (parse_offset(optarg, &o.uid_offset)) {
				ret =
				    erofs_opt_bad(&log, "--uid-offset", optarg);
				goto out;
			}
			break;
		case OPT_GID_OFFSET:
			if (parse_offset(optarg, &o.gid_offset)) {
				ret =
				    erofs_opt_bad(&log, "--gid-offset", optarg);
				goto out;
			}
			break;
		case OPT_EXCLUDE_PATH:
			if (erofs_exclude_add_path(&o.exclude, optarg)) {
				ret = 1;
				goto out;
			}
			break;
		case OPT_EXCLUDE_REGEX:
			if (erofs_exclude_add_regex(&o.exclude, optarg, &log))
				goto out;
			break;
		case OPT_CHUNKSIZE:
			if (erofs_parse_size(optarg, &v) || !v) {
				ret =
				    erofs_opt_bad(&log, "--chunksize", optarg);
				goto out;
			}
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
		case OPT_ALL_TIME:
			o.mkfs_time_only = false;
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
		case OPT_TAR:
			if (!optarg || !strcmp(optarg, "f")) {
				o.tar_mode = EROFS_TAR_FULL;
			} else if (!strcmp(optarg, "i")) {
				o.tar_mode = EROFS_TAR_INDEX;
			} else if (!strcmp(optarg, "headerball")) {
				o.tar_mode = EROFS_TAR_HEADERBALL;
			} else if (strchr(optarg, ',')) {
				ret = unsupported(&log, "--tar=MODE,MAPFILE",
						  "no block list files");
				goto out;
			} else {
				ret = erofs_opt_bad(&log, "--tar", optarg);
				goto out;
			}
			break;
		case OPT_AUFS:
			o.aufs = true;
			break;
		case OPT_OVLFS_STRIP:
			if (optarg && strcmp(optarg, "0") &&
			    strcmp(optarg, "1")) {
				ret = erofs_opt_bad(&log, "--ovlfs-strip",
						    optarg);
				goto out;
			}
			o.ovlfs_strip = !optarg || !strcmp(optarg, "1");
			break;
		case OPT_UNGZIP:
		case OPT_UNXZ:
			/*
			 * the importer detects every compression itself;
			 * FILE gets the decompressed stream
			 */
			if (optarg && !*optarg) {
				ret = erofs_opt_bad(&log,
						    c == OPT_UNGZIP ? "--ungzip"
								    : "--unxz",
						    optarg);
				goto out;
			}
			if (optarg)
				o.tar_dump = optarg;
			break;
		case OPT_IGNORE_MTIME:
			o.ignore_mtime = true;
			break;
		case OPT_PRESERVE_MTIME:
			o.ignore_mtime = false;
			break;
		case OPT_SORT:
			if (!strcmp(optarg, "none")) {
				o.sort_path = false;
			} else if (!strcmp(optarg, "path")) {
				o.sort_path = true;
			} else {
				ret = erofs_opt_bad(&log, "--sort", optarg);
				goto out;
			}
			break;
		case OPT_HARD_DEREFERENCE:
			o.hard_dereference = true;
			break;
		case OPT_XATTR_PREFIX: {
			void *p = realloc(prefixes, (o.nr_xattr_prefixes + 1) *
							sizeof(*prefixes));

			if (!p) {
				ret = 1;
				goto out;
			}
			prefixes = p;
			prefixes[o.nr_xattr_prefixes++] = optarg;
			o.xattr_prefixes = prefixes;
			break;
		}
		case OPT_CLEAN:
			/* a full build with all data is what we always do */
			if (optarg && strcmp(optarg, "data")) {
				ret = unsupported(&log, "--clean",
						  "only --clean=data");
				goto out;
			}
			break;
		case OPT_UNSUPPORTED: {
			char name[64];

			snprintf(name, sizeof(name), "--%s",
				 long_opts[idx].name);
			ret = unsupported(&log, name, NULL);
			goto out;
		}
		case 'h':
		case OPT_HELP:
			usage(stdout);
			ret = 0;
			goto out;
		case 'V':
		case OPT_VERSION:
			printf("mkfs.erofs (erofs-ondemand) %s\n",
			       PACKAGE_VERSION);
			ret = 0;
			goto out;
		default:
			/* getopt named the option already */
			fputs("Try 'mkfs.erofs --help' for more information.\n",
			      stderr);
			goto out;
		}
	}
	if (argc - optind == 2) {
		dest = argv[optind];
		src = argv[optind + 1];
	} else if (argc - optind == 1 && o.tar_mode != EROFS_TAR_AUTO) {
		dest = argv[optind];
		src = "-";
	} else {
		erofs_err(&log, 0, "%s",
			  argc - optind < 1   ? "missing DEST"
			  : argc - optind < 2 ? "missing SOURCE"
					      : "too many arguments");
		fputs("Try 'mkfs.erofs --help' for more information.\n",
		      stderr);
		goto out;
	}
	if (o.tar_mode != EROFS_TAR_AUTO && strcmp(src, "-") &&
	    !stat(src, &st) && S_ISDIR(st.st_mode)) {
		erofs_err(&log, 0,
			  "%s: --tar needs an archive, not a directory", src);
		goto out;
	}
	if (o.tar_mode == EROFS_TAR_INDEX) {
		/*
		 * As erofs-utils: file data is addressed inside the appended
		 * tar at its 512-byte aligned offset, so blocks are 512 bytes
		 * whatever -b says.
		 */
		if (bsize_given && o.blkszbits != 9)
			erofs_info(&log, "--tar=i: using 512-byte blocks");
		o.blkszbits = 9;
	}
	if (o.force_blockmap && o.blobdev) {
		erofs_err(&log, 0,
			  "-E force-inode-blockmap cannot address a --blobdev "
			  "device");
		goto out;
	}
	/* -T wins over SOURCE_DATE_EPOCH */
	if (!o.fixed_time && erofs_opt_epoch(&log, &o.have_epoch, &o.epoch))
		goto out;
	if (quiet)
		log.level = EROFS_LOG_ERR;
	log.timestamps = log.level >= EROFS_LOG_INFO;
	if (!quiet && log.level < EROFS_LOG_INFO && isatty(STDERR_FILENO)) {
		clock_gettime(CLOCK_MONOTONIC, &prog.start);
		o.progress = show_progress;
		o.progress_arg = &prog;
	}
	/* deep trees keep one directory fd open per level */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	progs_unlink_on_fatal_signal(&tmpnames);
	o.tmpnames = &tmpnames;
	err = erofs_build(dest, src, &o, &res, &log);
	if (err) {
		ret = 1;
		goto out;
	}
	if (!quiet)
		print_summary(&res.manifest, dest);
	erofs_build_result_free(&res);
	ret = 0;
out:
	erofs_exclude_free(&o.exclude);
	free(prefixes);
	return ret;
}
